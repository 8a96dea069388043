# homelab.stack development commands. Quick start: `make lab`, then `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/.cache/collections
LAB_INVENTORY := -i tests/lab/inventory -i .lab/inventory.yml
# The lab's secrets are SOPS-encrypted in .lab/group_vars/ (tests/lab/lab.sh): its runs enable
# community.sops's vars plugin and give it the lab's age key. Set here, not in ansible.cfg, which
# stays the plain development configuration.
LAB_ANSIBLE_ENV := ANSIBLE_VARS_ENABLED=host_group_vars,community.sops.sops SOPS_AGE_KEY_FILE=$(CURDIR)/.lab/age-key.txt

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export CONTAINERS_CONF := $(CURDIR)/tests/lab/controller-containers.conf
export PODMAN_IGNORE_CGROUPSV1_WARNING := 1

.PHONY: help setup venv collection images lab lab-down lab-status test test-fast unit quadlet \
        integration lint sanity molecule build changelog clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup:  ## Install the controller's packages when missing (as root on Debian/Ubuntu)
	@tests/lab/setup-controller.sh

venv: setup  ## Create .venv with the development tools
	@tests/lab/make-venv.sh

collection: venv  ## Make the checkout resolvable as homelab.stack
	@mkdir -p $(COLLECTIONS)/ansible_collections/homelab
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/homelab/stack

images:  ## Build the offline lab images (cached)
	@tests/lab/build-images.sh >/dev/null
	@tests/lab/build-monitoring-images.sh >/dev/null
	@tests/lab/build-postgres-image.sh >/dev/null

lab: collection  ## Bring up the two-site lab and converge playbooks/site.yml on it
	@tests/lab/lab.sh up
	$(LAB_ANSIBLE_ENV) ansible-playbook $(LAB_INVENTORY) playbooks/site.yml

lab-down:  ## Remove the lab (hosts, networks, state); images stay cached
	@tests/lab/lab.sh down

lab-status:  ## Show the lab hosts
	@tests/lab/lab.sh status

test: collection  ## The full suite: unit, lint, sanity, integration (the lab), Molecule
	$(MAKE) unit lint changelog sanity integration molecule

test-fast: collection  ## The inner loop: unit tests and lint
	$(MAKE) unit lint

unit: collection  ## Unit tests
	pytest tests/unit

quadlet: images  ## Extract the real Quadlet generator from the lab image (.cache/bin/quadlet)
	@tests/lab/extract-quadlet.sh

integration: collection quadlet  ## Integration tests, including the lab's converge-twice check
	pytest tests/integration

# Lint and Molecule get an Ansible home of their own: Molecule installs the collection into
# its home's collections, and ansible-lint resolves roles from the user's home before the
# checkout, so a copy left there by an earlier run would be linted instead of the tree.
lint: collection  ## ansible-lint with the production profile
	ANSIBLE_HOME=$(CURDIR)/.cache/lint-home ansible-lint --profile production

sanity: collection  ## ansible-test sanity (on a git-indexed copy, see tests/lab/sanity.sh)
	tests/lab/sanity.sh

molecule: collection images  ## Every Molecule scenario (create, converge, idempotence, verify, destroy)
	@set -e; for scenario in molecule/*/molecule.yml; do \
		ANSIBLE_HOME=$(CURDIR)/.cache/molecule-home molecule test -s $$(basename $$(dirname $$scenario)); \
	done

build: collection  ## Build the collection tarball
	ansible-galaxy collection build --force

changelog: collection  ## Check the changelog fragments
	antsibull-changelog lint

clean:  ## Remove local caches (not the lab: use lab-down)
	rm -rf .cache tests/output homelab-stack-*.tar.gz
