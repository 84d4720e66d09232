# Ember — every entry point a person or CI needs. `make demo` and `make test` set up a fresh
# Debian machine themselves (apt packages, a Python venv for the tools).
SWIFT ?= swift
EMBER := .build/release/ember
DEBUG_EMBER := .build/debug/ember
VENV := tools/.venv
PY := $(VENV)/bin/python
APT_PACKAGES := libflatbuffers-dev flatbuffers-compiler
# ember-micro (Embedded Swift, static): musl for x86_64, cross compilers for aarch64 and
# armv7, qemu to run the cross builds in the parity tests.
MICRO_APT_PACKAGES := musl-tools gcc-aarch64-linux-gnu g++-aarch64-linux-gnu gcc-arm-linux-gnueabi \
  g++-arm-linux-gnueabi qemu-user-static binutils
# Targets `make test` builds and checks against ember (all three: `make micro-test`).
MICRO_TEST_ARCHES ?= x86_64 aarch64
APT_GET := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)
DEMO_MODEL := models/iris.ember
FUZZ_SECONDS ?= 15
VENV_BENCH := tools/.venv-bench
VENV_EVAL := tools/.venv-eval
VENV_PEERS := tools/.venv-peers
BENCH_SIZES ?= 30:128 64:256
EVAL_ARGS ?=

.PHONY: deps deps-venv deps-java venv build release check-schema demo test swift-test pytest-tools fuzz-smoke fuzz python python-wheel pytest-python \
        models static static-full micro micro-deps micro-test micro-parity debug-ember edge capi-test pytest-capi bench bench-ort bench-python bench-train pytest-bench eval eval-quick \
        pytest-eval tune peers clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing; fi

## What a bare Debian lacks for the Python package: `python3 -m venv` (python3-venv) and, for
## the Spark tests, a Java runtime (PySpark 4 needs Java 17+: Debian 12's default-jre-headless).
deps-venv:
	@python3 -c "import ensurepip" 2>/dev/null || { $(APT_GET) update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq python3-venv; }

deps-java:
	@command -v java >/dev/null 2>&1 || { $(APT_GET) update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq default-jre-headless; }

micro-deps:
	@missing=""; for p in $(MICRO_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing; fi

venv: $(VENV)/.ok
$(VENV)/.ok: tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
	touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product ember

check-schema: deps
	tools/gen-schema.sh --check

## The main job on a shipped model: verify, inspect, sample, score and classify (trains nothing).
demo: release
	@echo "== ember verify $(DEMO_MODEL)"
	$(EMBER) verify $(DEMO_MODEL)
	@echo "== ember inspect $(DEMO_MODEL)"
	$(EMBER) inspect $(DEMO_MODEL)
	@echo "== ember sample: 9 synthetic rows, class-proportional, seed 7"
	$(EMBER) sample $(DEMO_MODEL) --count 9 --seed 7
	@echo "== ember classify: the first 5 rows of the training CSV"
	head -6 models/data/iris.csv | $(EMBER) classify $(DEMO_MODEL) -
	@echo "== ember score: a typical row, then an out-of-distribution one"
	printf 'sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n5.1,3.5,1.4,0.2\n7.9,2.0,1.0,2.5\n' \
	  | $(EMBER) score $(DEMO_MODEL) - --energies

## Every test: generated code fresh, Swift suites (incl. CLI + C API tests), Python tools, the Python
## package, fuzz smoke, ember-micro (x86_64 natively, aarch64 under qemu) byte-identical to ember.
test: deps check-schema swift-test pytest-tools pytest-python pytest-bench pytest-eval fuzz-smoke micro-parity

swift-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

pytest-tools: venv swift-test
	EMBER_BIN=$(CURDIR)/$(DEBUG_EMBER) $(PY) -m pytest -q tools/python/test_reader.py

## The Python package (import name `ember`): builds the release libCEmberTrainer.so (runtime +
## trainer C APIs), bundles it into the package and pip-installs tools/python into $(VENV),
## creating the virtual environment when missing. `make python VENV=dir` picks another one.
python: deps deps-venv
	$(SWIFT) build -c release --product CEmberTrainer
	mkdir -p tools/python/ember/_lib
	cp .build/release/libCEmberTrainer.so tools/python/ember/_lib/
	[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check tools/python
	rm -rf tools/python/build tools/python/*.egg-info
	$(VENV)/bin/python -c "import ember; print('ember', ember.version(), 'installed in $(VENV)')"

## A portable wheel in dist/: the library linked with the Swift runtime and Foundation statically
## (-static-stdlib; ~60 MB stripped), so the target machine needs only glibc and libstdc++ —
## no Swift toolchain. Install it with pip on any x86-64 Linux with Python 3.
python-wheel: deps deps-venv
	$(SWIFT) build -c release --product CEmberTrainer --scratch-path .build-static -Xswiftc -static-stdlib
	mkdir -p tools/python/ember/_lib dist
	cp .build-static/release/libCEmberTrainer.so tools/python/ember/_lib/
	strip tools/python/ember/_lib/libCEmberTrainer.so
	[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip wheel -q --disable-pip-version-check --no-deps -w dist tools/python
	rm -rf tools/python/build tools/python/*.egg-info tools/python/ember/_lib
	ls -l dist/*.whl

## The package's tests (pandas, scikit-learn, imbalanced-learn, PySpark in local mode) in their own
## venv; the CLI comparisons use the debug `ember` built by swift-test.
VENV_PYTHON := tools/.venv-python
$(VENV_PYTHON)/.ok: tools/requirements-python.txt | deps-venv
	[ -x $(VENV_PYTHON)/bin/python ] || python3 -m venv $(VENV_PYTHON)
	$(VENV_PYTHON)/bin/pip install -q --disable-pip-version-check -r tools/requirements-python.txt
	touch $@

pytest-python: $(VENV_PYTHON)/.ok deps-java swift-test
	$(MAKE) --no-print-directory python VENV=$(VENV_PYTHON)
	EMBER_BIN=$(CURDIR)/$(DEBUG_EMBER) $(VENV_PYTHON)/bin/python -m pytest -q tools/python/tests

fuzz-smoke: deps
	tools/fuzz/run.sh $(FUZZ_SECONDS)

fuzz: deps
	tools/fuzz/run.sh 300

models: release
	tools/make-models.sh $(EMBER)

## dist/ember = ember-edge (device CLI without train), fully static, checked ≤ 8 MB.
static: deps
	tools/static-build.sh

## Also dist/ember-full (development CLI with train, ~60 MB because of Foundation).
static-full: deps
	tools/static-build.sh --full

## dist/ember-micro (x86_64, static musl, checked ≤ 1 MiB), dist/ember-micro-aarch64 (static-pie)
## and dist/ember-micro-armv7 (static): the device verbs as Embedded Swift (docs/DEPLOYMENT.md).
micro: deps micro-deps
	tools/micro/build.sh --arch all

## ember-micro against the debug ember on the shipped models and bad inputs: byte-identical
## stdout/stderr and exit statuses, natively and under qemu-aarch64 / qemu-arm; the C example
## linked against dist/lib/libember-micro.a against the same example on libCEmber.so.
## micro-parity: the MICRO_TEST_ARCHES builds only; micro-test: all three targets.
micro-test: MICRO_TEST_ARCHES = x86_64 aarch64 armv7
micro-test: micro-parity
micro-parity: deps micro-deps debug-ember
	set -e; for a in $(MICRO_TEST_ARCHES); do tools/micro/build.sh --arch $$a; done
	set -e; for a in $(MICRO_TEST_ARCHES); do case $$a in \
	  x86_64) tools/micro/parity.sh $(DEBUG_EMBER) dist/ember-micro ;; \
	  aarch64) tools/micro/parity.sh $(DEBUG_EMBER) dist/ember-micro-aarch64 qemu-aarch64-static ;; \
	  armv7) tools/micro/parity.sh $(DEBUG_EMBER) dist/ember-micro-armv7 qemu-arm-static ;; \
	  *) echo "micro-parity: unknown arch $$a" >&2; exit 2 ;; esac; done
	@# dist/lib/libember-micro.a (built with x86_64): the C example's output as with libCEmber.
	$(SWIFT) build --product CEmber
	cc -std=c11 -O2 -ISources/EmberC/include examples/c/ember_example.c -o .build-micro/ember_example_full \
	  -L.build/debug -lCEmber -Wl,-rpath,$(CURDIR)/.build/debug -lm -pthread
	.build-micro/ember_example_full examples/c/demo.ember | cmp - .build-micro/x86_64/ember_example.out
	@echo "micro-parity: examples/c/ember_example.c prints the same with libember-micro.a and libCEmber.so"

debug-ember: deps
	$(SWIFT) build --product ember

edge: deps
	$(SWIFT) build -c release --product ember-edge

capi-test: deps
	$(SWIFT) build --product CEmber
	$(SWIFT) test --filter CAPITests

pytest-capi: $(VENV_PYTHON)/.ok
	$(SWIFT) build --product ember
	$(MAKE) --no-print-directory python VENV=$(VENV_PYTHON)
	EMBER_BIN=$(CURDIR)/$(DEBUG_EMBER) $(VENV_PYTHON)/bin/python -m pytest -q tools/python/tests/test_model.py

$(VENV_BENCH)/.ok: tools/requirements-bench.txt
	python3 -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/pip install -q --disable-pip-version-check -r tools/requirements-bench.txt
	touch $@

$(VENV_EVAL)/.ok: tools/requirements-eval.txt
	python3 -m venv $(VENV_EVAL)
	$(VENV_EVAL)/bin/pip install -q --disable-pip-version-check -r tools/requirements-eval.txt
	touch $@

## ember bench vs ONNX Runtime and numpy on the same networks, in one run (docs/BENCHMARKS.md).
bench: bench-ort
bench-ort: release $(VENV_BENCH)/.ok
	mkdir -p tools/bench/out
	set -e; for s in $(BENCH_SIZES); do d=$${s%:*}; h=$${s#*:}; m=tools/bench/out/bench-$$d-$$h; \
	  $(VENV_BENCH)/bin/python tools/bench/make_bench_model.py --d $$d --h $$h --out $$m.ember; \
	  $(EMBER) bench $$m.ember --json > $$m.ember-bench.json; \
	  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(VENV_BENCH)/bin/python tools/bench/ort_bench.py $$m.ember \
	    --ember-json $$m.ember-bench.json --json $$m.ort.json --markdown; done

## The Python API (ember.Model.score from numpy and DataFrames) vs the bare C call and ONNX
## Runtime's Python API on the same score graph (docs/BENCHMARKS.md, "Python").
bench-python: $(VENV_BENCH)/.ok
	$(MAKE) --no-print-directory python VENV=$(VENV_BENCH)
	mkdir -p tools/bench/out
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(VENV_BENCH)/bin/python tools/bench/python_bench.py \
	  models/iris.ember models/breast_cancer.ember --train-small --json tools/bench/out/python.json --markdown

## Training at scale (docs/TRAINING.md §9): wall and CPU time, peak RSS and test quality per size.
TRAIN_SIZES ?= 1000x20,10000x20,20000x20
bench-train: release $(VENV_EVAL)/.ok
	$(VENV_EVAL)/bin/python tools/bench/train_scale.py --sizes $(TRAIN_SIZES)

pytest-bench: $(VENV_BENCH)/.ok
	$(VENV_BENCH)/bin/python -m pytest -q tools/bench

## Peer generators' own venv (sdv/ctgan/copulas pin pandas < 3; torch, xgboost, lightgbm, catboost).
peers: $(VENV_PEERS)/.ok
$(VENV_PEERS)/.ok: tools/requirements-peers.txt
	python3 -m venv $(VENV_PEERS)
	$(VENV_PEERS)/bin/pip install -q --disable-pip-version-check -r tools/requirements-peers.txt
	touch $@

## The evaluation (issue 9: both halves, peers cached under tools/eval/out/cache) → docs/EVALUATION.md;
## eval-quick writes to tools/eval/out/. EVAL_ARGS e.g. "--half tune --methods real,smote,ember".
eval: release $(VENV_EVAL)/.ok $(VENV_PEERS)/.ok
	$(VENV_EVAL)/bin/python tools/eval/run_eval.py --ember $(EMBER) $(EVAL_ARGS)

eval-quick: release $(VENV_EVAL)/.ok $(VENV_PEERS)/.ok
	$(VENV_EVAL)/bin/python tools/eval/run_eval.py --quick --ember $(EMBER) $(EVAL_ARGS)

pytest-eval: $(VENV_EVAL)/.ok
	$(VENV_EVAL)/bin/python -m pytest -q tools/eval

## Sampler tuning grid on the evaluation protocol (docs/TUNING.md).
tune: release $(VENV_EVAL)/.ok
	$(VENV_EVAL)/bin/python tools/eval/tune.py --ember $(EMBER)

clean:
	rm -rf .build .build-* dist
