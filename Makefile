# Thin wrapper over CMake/CTest. `make run` and `make test` work on a fresh machine: they
# install the Debian packages they need first (as root, or through sudo).
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps deps-test build run test test-sanitize test-corpus bench fuzz clean

all: build

deps:
	@bash .ci/install-deps.sh runtime

deps-test:
	@bash .ci/install-deps.sh test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the bundled samples: check every unit, convert each to the standard
# layout and merge them all into one consolidated workbook under out/.
# The samples carry real defects (exit status 1: error findings) and bad files (exit status 2:
# files that cannot be read): each command's status is said in one line, and only another
# status (a crash) stops the run. samples/hengyang-county-2021 holds one unit in five formats:
# convert takes its .xls pair (zpb.xls, jcsj.xls), so that one unit gives one file of each table.
define explain_status
st=0; $(1) || st=$$?; \
case $$st in \
  0) ;; \
  1) echo "（退出状态 1：样本含有错误，属预期）" ;; \
  2) echo "（退出状态 2：样本中有无法读取的文件，属预期）" ;; \
  *) echo "（退出状态 $$st：出乎预期）"; exit $$st ;; \
esac
endef

run: build
	@mkdir -p out
	@echo "== perfsheet check samples/  (findings; the bad/ files are reported, the batch goes on)"
	@$(call explain_status,$(BUILD)/perfsheet check samples/)
	@echo "== perfsheet convert -> out/units/"
	@rm -rf out/units
	@$(call explain_status,$(BUILD)/perfsheet convert -q samples/hengyang-county-2021/zpb.xls \
	  samples/hengyang-county-2021/jcsj.xls samples/synthetic samples/juesuan samples/gansu-jiayuguan-2021 -o out/units)
	@ls out/units | head -5; echo "   … $$(ls out/units | wc -l) files"
	@echo "== perfsheet merge -> out/汇总.xlsx"
	@$(call explain_status,$(BUILD)/perfsheet merge samples/hengyang-county-2021 samples/synthetic samples/juesuan \
	  samples/gansu-jiayuguan-2021 samples/bad -o out/汇总.xlsx)
	@echo "== perfsheet report -> out/report.html  (open it in a browser)"
	@$(call explain_status,$(BUILD)/perfsheet report -q samples/hengyang-county-2021 samples/synthetic samples/juesuan \
	  samples/gansu-jiayuguan-2021 samples/bad -o out/report.html)

test: deps-test build
	cmake -S . -B $(BUILD) -DPS_REQUIRE_UNIT_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-sanitize: deps-test
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPS_SANITIZE=ON -DPS_REQUIRE_UNIT_TESTS=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j $(JOBS)

bench: build
	@bash bench/run.sh $(BUILD)

# libFuzzer targets (needs clang): each runs FUZZ_MINUTES niced, one after another (docs/fuzzing.md).
FUZZ_MINUTES ?= 20
fuzz: deps-test
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPS_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzz_xls fuzz_xlsx fuzz_mapping fuzz_rules
	bash bench/fuzz-run.sh build-fuzz $(FUZZ_MINUTES)

clean:
	rm -rf $(BUILD) build-asan build-fuzz out
