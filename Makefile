# Thin front door over CMake presets; see README.md.
#   make          build libhrss.a, libhrss.so and hrss into build/
#   make test     install missing packages, build, run every test, then again under ASan+UBSan
#   make fuzz     build the libFuzzer targets with clang and run each (FUZZ_SECONDS, default 60)
#   make fuzz-build  only build them (CI does, so that clang's warnings stop a change too)
#   make bench    run the benchmarks (crypto against openssl speed, node against nginx)
#   make bench-node  hrss-node against nginx as a reverse proxy (bench/node.sh)
#   make bench-sms   hrss-sms against Kannel and its fake SMSC (bench/sms.sh)
#   make demo     start the node and the demo provider, show transactions, stay up until Ctrl-C
#                 (make demo ARGS=--once: exit after the steps, 0 when all behaved as shown)
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps test test-release test-asan fuzz fuzz-build bench bench-node bench-sms demo clean format

all:
	@scripts/deps.sh build
	cmake --preset release >/dev/null
	cmake --build --preset release -j$(JOBS)

deps:
	scripts/deps.sh all

test: all
	ctest --preset release -j$(JOBS)
	$(MAKE) test-asan

test-asan:
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j$(JOBS)
	ctest --preset asan -j$(JOBS)

fuzz: fuzz-build
	scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

fuzz-build:
	@scripts/deps.sh fuzz
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j$(JOBS)

bench: all
	@scripts/deps.sh bench
	bench/crypto.sh build
	bench/node.sh build
	bench/sms.sh

bench-node: all
	@scripts/deps.sh bench
	bench/node.sh build

bench-sms: all
	@scripts/deps.sh bench
	bench/sms.sh

# Only what the demo runs, so that a fresh machine sees it sooner.
demo:
	@scripts/deps.sh build
	cmake --preset release >/dev/null
	cmake --build --preset release -j$(JOBS) --target hrss hrss-node hrss-demo-provider hrss-sms
	scripts/demo.sh build $(ARGS)

clean:
	rm -rf build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
