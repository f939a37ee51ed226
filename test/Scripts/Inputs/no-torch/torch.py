# On PYTHONPATH in state-dict-to-inputs.test: importing torch fails loudly, so
# a test passes only if the code path it runs never imports PyTorch.
raise ImportError("this test forbids importing torch")
