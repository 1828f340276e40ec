# atlas-ip-sync. `make demo` runs the local stack end to end; `make test` is
# what CI runs. Every target works on a fresh clone with the tools listed in
# README.md.

GO        ?= go
BUILD     := build
FUNCTIONS := $(notdir $(wildcard functions/*))
# One bootstrap per Lambda function: provided.al2023, arm64, no RPC shim.
LAMBDA_ENV   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
FUZZTIME  ?= 60s
# Python tools installed by infra/tools.sh when the machine lacks them; the
# ones already on the PATH come first.
export PATH := $(PATH):$(CURDIR)/.venv/bin

.PHONY: all build cli test unit sim lint tools bench demo fuzz vuln clean build-ReconcileFunction build-WebhookFunction reliability soak dashboard

all: build

build: cli $(FUNCTIONS:%=$(BUILD)/%/bootstrap)

cli:
	$(GO) build -trimpath -o $(BUILD)/ipsync ./cmd/ipsync

$(BUILD)/%/bootstrap: FORCE
	mkdir -p $(dir $@)
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

FORCE:

# sam build (BuildMethod: makefile) calls these with ARTIFACTS_DIR set.
build-ReconcileFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/reconcile

build-WebhookFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook

# The suite starts moto_server and the Atlas simulator itself. With CI=true a
# missing component fails the run instead of skipping. -count=1: some tests
# read the world outside Go's test cache (go list, moto).
test: tools lint vuln unit sim

# moto_server, cfn-lint and aws-sam-translator: used from the PATH, or
# installed at pinned versions into .venv (infra/tools.sh says what to do
# by hand when pip cannot reach its index).
tools:
	@bash infra/tools.sh

unit:
	$(GO) test -count=1 -race -timeout 8m ./...

# The randomized simulation's full budget (10,000 steps), its planted bugs
# and its replay check, without the race detector (unit runs a tenth of it
# under -race).
sim:
	$(GO) test -count=1 -timeout 3m -run '^TestSimulation$$|^TestSimulationFindsAPlantedBug$$|^TestSimulationFindsAdmissionLeftOut$$|^TestSimulationReplaysExactly$$' ./internal/reconcile/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	cfn-lint template.yaml

bench:
	bash infra/bench.sh

demo:
	@bash infra/tools.sh demo
	bash infra/demo.sh

# The randomized simulation for longer: make soak SEED=7 STEPS=1000000 runs
# seeds 7 and 8, half the steps each (a failure names the seed to replay).
SEED ?= 1
STEPS ?= 1000000
soak:
	IPSYNC_SIM_SEED=$(SEED) IPSYNC_SIM_STEPS=$(STEPS) $(GO) test -count=1 -timeout 0 -run '^TestSimulation$$' -v ./internal/reconcile/

# The fault matrix, written from the tests into docs/RELIABILITY.md.
reliability:
	IPSYNC_WRITE_RELIABILITY=1 $(GO) test -count=1 -run 'FaultMatrix|SQSFault|SecretsManagerFaults|AtlasFaultsAtRunLevel|AssumeRoleFaults|AccessListFaults|ZWrite' ./internal/reconcile/faults/

# The dashboard in template.yaml and its sketch docs/dashboard.svg, from
# internal/dashboard (a test fails when they are stale).
dashboard:
	$(GO) test -count=1 -run '^TestGenerated$$' ./internal/dashboard/ -update

# Each fuzz target for $(FUZZTIME); not part of `make test`.
fuzz:
	bash infra/fuzz.sh $(FUZZTIME)

# Known vulnerabilities in the code paths the binaries use (govulncheck)
# and go mod verify: https://vuln.go.dev where it answers, else the
# offline database in testdata/vulndb. Part of `make test`.
vuln:
	bash infra/vuln.sh

clean:
	rm -rf $(BUILD)
