#!/usr/bin/perl
# An SMPP 3.4 SMSC built on Net::SMPP (Debian's libnet-smpp-perl), an SMPP
# implementation hrss did not write, for the interoperability test of the
# SMPP client (tests/integration/test_carrier_smpp.py).
#
#   perl tests/sim/smsc_netsmpp.pl [--system-id ID] [--password PW] [--mo TEXT]
#
# Listens on 127.0.0.1 (a free port), prints "READY port=N", serves one
# connection: answers bind_transceiver (checking system_id and password,
# 0x0F / 0x0E otherwise), sends one UCS2 MO deliver_sm once bound, answers
# submit_sm with increasing message ids and, when registered_delivery asks
# for one, sends a delivery receipt deliver_sm (esm_class 0x04, Appendix B
# text), answers enquire_link and unbind. Prints one line per event on
# stdout. Exits after 120 seconds at most.
use strict;
use warnings;
use Getopt::Long;
use Encode qw(encode);
use Net::SMPP;

my ($sysid, $pw, $mo) = ('hrss', 'secret', "CBXX#\x{67e5}\x{8be2}");
GetOptions('system-id=s' => \$sysid, 'password=s' => \$pw, 'mo=s' => \$mo) or exit 2;
$| = 1;
alarm 120;

my $srv = Net::SMPP->new_listen('127.0.0.1', port => 0, smpp_version => 0x34)
    or die "cannot listen: $!";
print "READY port=", $srv->sockport, "\n";

my $c;
until ($c = $srv->accept) { }
my $next_id = 1000;
while (1) {
    my $pdu = $c->read_pdu() or last;
    my $cmd = $pdu->{cmd};
    if ($cmd == 0x00000009) {                     # bind_transceiver
        my $st = $pdu->{system_id} ne $sysid ? 0x0F : $pdu->{password} ne $pw ? 0x0E : 0;
        $c->bind_transceiver_resp(system_id => 'NETSMPP', seq => $pdu->{seq}, status => $st);
        print "bind system_id=$pdu->{system_id} status=$st\n";
        next if $st;
        $c->deliver_sm(source_addr_ton => 1, source_addr_npi => 1,
                       source_addr => '8613800138000', destination_addr => '1065801233301',
                       data_coding => 8, short_message => encode('UTF-16BE', $mo),
                       async => 1);
        print "mo sent\n";
    } elsif ($cmd == 0x00000004) {                # submit_sm
        my $id = $next_id++;
        $c->submit_sm_resp(message_id => "$id", seq => $pdu->{seq});
        printf "submit to=%s from=%s dcs=%d esm=0x%02x rd=%d hex=%s id=%d\n",
            $pdu->{destination_addr}, $pdu->{source_addr}, $pdu->{data_coding},
            $pdu->{esm_class}, $pdu->{registered_delivery}, unpack('H*', $pdu->{short_message}),
            $id;
        if ($pdu->{registered_delivery} & 1) {
            my $t = sprintf('id:%d sub:001 dlvrd:001 submit date:2611231130 done date:2611231131'
                            . ' stat:DELIVRD err:000 text:', $id);
            $c->deliver_sm(source_addr => $pdu->{destination_addr},
                           destination_addr => $pdu->{source_addr}, esm_class => 0x04,
                           short_message => $t, async => 1);
            print "receipt id=$id\n";
        }
    } elsif ($cmd == 0x00000015) {                # enquire_link
        $c->enquire_link_resp(seq => $pdu->{seq});
        print "enquire_link\n";
    } elsif ($cmd == 0x00000006) {                # unbind
        $c->unbind_resp(seq => $pdu->{seq});
        print "unbind\n";
        last;
    } elsif ($cmd == 0x80000005) {                # deliver_sm_resp
        print "deliver_sm_resp status=$pdu->{status}\n";
    } else {
        printf "other cmd=0x%08x\n", $cmd;
    }
}
print "done\n";
