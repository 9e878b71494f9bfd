# flowlake: two commands on a fresh Debian 12 machine.
#   make demo   build (Release) and run the demo: a synthetic sample ingested from a file,
#               then a mock Kafka cluster streamed into the lake by `flowlake run`
#   make test   build (Debug with ASan+UBSan, and Release), run every test, fuzz the decoder briefly
# Both install what they need first (Debian packages, npm test tools).

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
DEBUG_DIR := build/debug
FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 30
DEMO_FLOWS ?= 300000

.PHONY: all deps npm release debug fuzz-build fuzz test demo bench clean

all: release

deps:
	@bash scripts/install-deps.sh

# npm ci only when the lockfile changed since the last install.
npm: deps
	@if [ ! -f test/node_modules/.flowlake-stamp ] || [ test/package-lock.json -nt test/node_modules/.flowlake-stamp ]; then \
	  echo "npm: installing test tools (DuckDB) from test/package-lock.json"; \
	  cd test && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.flowlake-stamp; \
	fi

release: deps
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS) --target flowlake flowlake-testkafka

debug: deps
	@cmake -S . -B $(DEBUG_DIR) -DCMAKE_BUILD_TYPE=Debug -DFLOWLAKE_SANITIZE=ON > /dev/null
	@cmake --build $(DEBUG_DIR) -j $(JOBS)

fuzz-build: deps
	@CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWLAKE_FUZZ=ON > /dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target decode_fuzzer

# A short libFuzzer run over the decoder; new inputs go to a scratch corpus.
fuzz: fuzz-build
	@rm -rf $(FUZZ_DIR)/corpus && mkdir -p $(FUZZ_DIR)/corpus
	@echo "fuzz: decode_fuzzer for $(FUZZ_SECONDS) s (log: $(FUZZ_DIR)/fuzz.log)"
	@$(FUZZ_DIR)/src/decode/decode_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus src/decode/fuzz_corpus \
	  > $(FUZZ_DIR)/fuzz.log 2>&1; rc=$$?; grep -E '^(Done|stat::number|stat::peak)|ERROR|SUMMARY' $(FUZZ_DIR)/fuzz.log; \
	  if [ $$rc -ne 0 ]; then tail -n 40 $(FUZZ_DIR)/fuzz.log; echo "fuzz: FAILED (crash input saved in $(FUZZ_DIR)/)"; exit 1; fi

# The release binary is tested too: the memory-limit test measures RSS, which
# ASan's shadow memory would dominate.
test: debug release npm fuzz
	@cd $(DEBUG_DIR) && ctest --output-on-failure -j 2

demo: release npm
	@bash scripts/demo.sh $(RELEASE_DIR)/flowlake $(DEMO_FLOWS)

bench: release npm
	@bash bench/ingest
	@bash bench/kafka

clean:
	rm -rf build demo-lake demo-data
