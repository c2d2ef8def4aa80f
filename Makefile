# The two commands: `make up` and `make test`. Both install what is missing first.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT ?= swift
# Warnings are errors (CONVENTIONS.md).
SWIFT_FLAGS ?= -Xswiftc -warnings-as-errors
VENV := .build-venv
PYTHON ?= python3
NATIVE_PG := Tests/scripts/native-postgres.sh
STACK ?= compose/default/compose.yaml

.PHONY: up test lint setup packages engine images build build-tests venv native-postgres unit integration doctor clean

## up: install what is missing, build devenv, reach the engine
up: setup build
	.build/debug/devenv doctor
	.build/debug/devenv up -f $(STACK)
	.build/debug/devenv status -f $(STACK)

## test: the same set-up, then the lint and every test, unit and integration
test: setup lint build-tests venv native-postgres
	DEVENV_TEST_PG_URL="$$($(NATIVE_PG) url)" DEVENV_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" \
	  $(SWIFT) test --skip-build

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

## unit / integration: one half of the suite (set-up as for test)
unit: setup build-tests venv native-postgres
	DEVENV_TEST_PG_URL="$$($(NATIVE_PG) url)" DEVENV_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" \
	  $(SWIFT) test --skip-build --skip IntegrationTests

integration: setup build-tests venv
	DEVENV_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" $(SWIFT) test --skip-build --filter IntegrationTests

doctor: build
	.build/debug/devenv doctor

clean:
	rm -rf .build $(VENV)
	$(NATIVE_PG) stop
