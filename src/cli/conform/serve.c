/* placeholder */
#include "cli/cli.h"
#include "cli/conform/conform.h"
int conform_serve_run(const cf_serve_opts *o, cf_report *r)
{
    (void)o;
    (void)r;
    cli_error("conform: serve is not built yet");
    return CLI_USAGE;
}
