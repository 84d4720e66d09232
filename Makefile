# Ember — every entry point a person or CI needs. `make demo` and `make test` set up a fresh
# Debian machine themselves (apt packages, a Python venv for tools).
SWIFT ?= swift
BUILD := .build/release
EMBER := $(BUILD)/ember
VENV := tools/.venv
PY := $(VENV)/bin/python
APT_PACKAGES := libflatbuffers-dev flatbuffers-compiler
APT_GET := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)

.PHONY: deps demo test build release check-schema clean venv

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing; fi

venv: $(VENV)/.ok
$(VENV)/.ok: tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
	touch $@

release: deps
	$(SWIFT) build -c release --product ember

build: deps
	$(SWIFT) build

check-schema: deps
	tools/gen-schema.sh --check

demo: release
	$(EMBER) inspect models/iris.ember

test: deps check-schema
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
