# gan_zoo: `make train` and `make test` each do all the set-up they need on a fresh machine.
PYTHON ?= python3
STAMP := .make/installed

.PHONY: install lock train test sweep-demo clean

# constraints.txt pins the exact versions CI tested; `make lock` rewrites it from the active Python.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m pip install --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@mkdir -p $(dir $@) && touch $@

install: $(STAMP)  ## install gan_zoo (editable) with its test tools into the active Python

lock:  ## after upgrading a dependency (and testing): re-pin constraints.txt to the active Python's versions
	$(PYTHON) scripts/lock.py

train: $(STAMP)  ## the default job: WGAN-GP on 8 Gaussians, W&B offline unless you are logged in
	$(PYTHON) -m gan_zoo.train

test: $(STAMP)  ## the whole test suite (CPU, no network)
	$(PYTHON) -m pytest

sweep-demo: $(STAMP)  ## a small λ sweep with the basic launcher
	$(PYTHON) -m gan_zoo.train -m objective=wgan lipschitz=gp lipschitz.lambda_=0.1,1,10 gen_iters=200 logger=csv

clean:
	rm -rf outputs multirun .make build dist src/*.egg-info
