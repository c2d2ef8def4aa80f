# The two commands: `make up` and `make test`. Both install what is missing first.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT ?= swift
# Warnings are errors (CONVENTIONS.md).
SWIFT_FLAGS ?= -Xswiftc -warnings-as-errors
VENV := .build-venv
PYTHON ?= python3
NATIVE_PG := Tests/scripts/native-postgres.sh
# A second native server, a DB on Demand instance of its own for the integration test that
# provisions, migrates and seeds one from scratch (the first is shared by many tests).
DBOD_PG := DEVENV_TEST_PG_DIR=/tmp/devenv-test-dbod DEVENV_TEST_PG_PORT=55433 $(NATIVE_PG)
STACK ?= compose/default/compose.yaml

.PHONY: up test lint setup packages engine images build build-tests venv native-postgres unit integration doctor clean fuzz bench release image test-engines install uninstall

## up: install what is missing, build devenv, reach the engine
up: setup build
	.build/debug/devenv doctor
	.build/debug/devenv up -f $(STACK)
	.build/debug/devenv status -f $(STACK)

## test: the same set-up, then the lint, every test (unit and integration) and the fuzz targets;
##   the engine-facing tests run on the rootful dockerd, rootless Podman, a remote engine over
##   TLS and over ssh (test-engines), and the CI recipes use the devenv image (image)
test: setup lint build-tests venv native-postgres test-engines image fuzz
	DEVENV_TEST_PG_URL="$$($(NATIVE_PG) url)" DEVENV_TEST_DBOD_URL="$$($(DBOD_PG) url)" \
	  DEVENV_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" \
	  DEVENV_TEST_IMAGE=$(IMAGE) env $(TEST_ENGINE_ENV) $(SWIFT) test --skip-build

## test-engines: the other engines and the private registry the suite uses (root only: a user,
##   a network namespace, a second dockerd). Without root the suite runs on the local engine alone.
ifeq ($(shell id -u),0)
TEST_ENGINE_ENV = "DEVENV_TEST_ENGINES=$$(Tests/scripts/podman-engine.sh matrix);$$(Tests/scripts/remote-engine.sh matrix)" \
  DEVENV_TEST_ENGINES_REQUIRED=podman,remote-tls,ssh $$(Tests/scripts/registry.sh env)
test-engines: images
	Tests/scripts/podman-engine.sh start >/dev/null
	Tests/scripts/remote-engine.sh start >/dev/null
	Tests/scripts/registry.sh start >/dev/null
else
TEST_ENGINE_ENV =
test-engines:
	@echo "test-engines: not root, so no rootless Podman, remote engine or registry: the suite runs on the local engine"
endif

setup: packages engine images

packages:
	.ci/setup.sh packages

engine:
	.ci/setup.sh engine

## images: build the offline debian:bookworm-slim, postgres:15, redis:7, nginx:1.22, devenv-django:3.2
##   (only what is missing or whose recipe changed)
images: engine
	compose/images/build-images.sh

build:
	$(SWIFT) build $(SWIFT_FLAGS)

build-tests:
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)

## lint: swift format with the checked-in .swift-format, strict
lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

## venv: the Python tools the tests use (testcontainers and psycopg2 as peers, kubernetes-validate)
VENV_PACKAGES := testcontainers psycopg2-binary kubernetes-validate
venv: $(VENV)/.ready-2
$(VENV)/.ready-2:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(VENV_PACKAGES)
	touch $@

native-postgres:
	$(NATIVE_PG) start >/dev/null
	$(DBOD_PG) start >/dev/null

## release: the binary to ship, .build-static/release/devenv: optimized, the Swift runtime linked
##   statically, linked by lld with the functions devenv runs laid out first (bench/devenv.order,
##   made by bench/order-file.sh; see BENCHMARKS.md, peak RSS)
release:
	$(SWIFT) build -c release --static-swift-stdlib --build-path .build-static $(SWIFT_FLAGS) \
	  -Xswiftc -use-ld=lld -Xlinker --symbol-ordering-file=$(CURDIR)/bench/devenv.order \
	  -Xlinker --no-warn-symbol-ordering

## install: the release binary, shell completions (bash, zsh, fish) and the man page, generated
##   from devenv's own argument definitions, under $(DESTDIR)$(PREFIX) (default /usr/local);
##   `make install PREFIX=$$HOME/.local` needs no root. `make uninstall` removes exactly those files.
PREFIX ?= /usr/local
INSTALLED := bin/devenv share/bash-completion/completions/devenv share/zsh/site-functions/_devenv \
  share/fish/vendor_completions.d/devenv.fish share/man/man1/devenv.1
install: release
	@set -e; root="$(DESTDIR)$(PREFIX)"; bin=.build-static/release/devenv; \
	  install -d "$$root/bin" "$$root/share/bash-completion/completions" "$$root/share/zsh/site-functions" \
	    "$$root/share/fish/vendor_completions.d" "$$root/share/man/man1"; \
	  install -m 755 "$$bin" "$$root/bin/devenv"; \
	  "$$bin" --generate-completion-script bash > "$$root/share/bash-completion/completions/devenv"; \
	  "$$bin" --generate-completion-script zsh > "$$root/share/zsh/site-functions/_devenv"; \
	  "$$bin" --generate-completion-script fish > "$$root/share/fish/vendor_completions.d/devenv.fish"; \
	  "$$bin" manual > "$$root/share/man/man1/devenv.1"; \
	  for f in $(INSTALLED); do echo "install: $$root/$$f"; done

uninstall:
	@for f in $(INSTALLED); do rm -f "$(DESTDIR)$(PREFIX)/$$f" && echo "uninstall: $(DESTDIR)$(PREFIX)/$$f"; done

## image: the devenv image, $(IMAGE): the release binary on debian:bookworm-slim, for CI jobs that
##   should not build Swift (rebuilt when the binary or the recipe changed)
IMAGE ?= devenv:$(shell sed -n 's/.*static let current = "\(.*\)"/\1/p' Sources/*/Doctor.swift)
image: release images
	@context=$$(mktemp -d /tmp/devenv-image.XXXXXX); \
	  cp .build-static/release/devenv compose/images/devenv/Dockerfile "$$context/"; \
	  docker build -q -t $(IMAGE) "$$context" >/tmp/devenv-image.log 2>&1 || { tail -n 20 /tmp/devenv-image.log; rm -rf "$$context"; echo "image: docker build failed, see /tmp/devenv-image.log"; exit 1; }; \
	  rm -rf "$$context"; echo "image: $(IMAGE) built"

## bench: every benchmark against its peer (release build, static Swift runtime), then the
##   generated section of bench/BENCHMARKS.md rewritten (machine, date, raw numbers)
bench: setup venv native-postgres release
	DEVENV="$(CURDIR)/.build-static/release/devenv" DEVENV_TEST_PG_URL="$$($(NATIVE_PG) url)" bench/run-all.sh

## fuzz: libFuzzer (-sanitize=fuzzer,address) on the stack loader, the interpolator and the
##   log-frame demuxer, FUZZ_SECONDS each (default 20), from the corpus in Tests/Fuzz/corpus;
##   new inputs go to .build-fuzz/corpus, findings to .build-fuzz/findings (and fail the target)
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := stack interpolation demuxer
fuzz:
	DEVENV_FUZZ=1 $(SWIFT) build --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address --product DevEnvFuzz
	"$$(dirname "$$(readlink -f "$$(command -v $(SWIFT))")")/clang" \
	  -fsanitize=fuzzer,address -L.build-fuzz/debug -lDevEnvFuzz -Wl,-rpath,$(CURDIR)/.build-fuzz/debug \
	  -o .build-fuzz/debug/devenv-fuzz
	mkdir -p .build-fuzz/findings
	for target in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$target; \
	  echo "fuzz: $$target for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=0 DEVENV_FUZZ_TARGET=$$target .build-fuzz/debug/devenv-fuzz \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=.build-fuzz/findings/$$target- \
	    .build-fuzz/corpus/$$target Tests/Fuzz/corpus/$$target 2>.build-fuzz/$$target.log \
	  || { tail -n 40 .build-fuzz/$$target.log; echo "fuzz: $$target found a problem, see .build-fuzz/findings"; exit 1; }; \
	  grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units)" .build-fuzz/$$target.log; \
	done

## unit / integration: one half of the suite (set-up as for test)
unit: setup build-tests venv native-postgres
	DEVENV_TEST_PG_URL="$$($(NATIVE_PG) url)" DEVENV_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" \
	  $(SWIFT) test --skip-build --skip IntegrationTests

integration: setup build-tests venv native-postgres test-engines image
	DEVENV_TEST_PG_URL="$$($(NATIVE_PG) url)" DEVENV_TEST_DBOD_URL="$$($(DBOD_PG) url)" \
	  DEVENV_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" DEVENV_TEST_IMAGE=$(IMAGE) \
	  env $(TEST_ENGINE_ENV) $(SWIFT) test --skip-build --filter IntegrationTests

doctor: build
	.build/debug/devenv doctor

clean:
	rm -rf .build $(VENV)
	$(NATIVE_PG) stop
	$(DBOD_PG) stop
