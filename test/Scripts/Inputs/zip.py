"""zip.py OUT.npz NAME=FILE.npy ...: an archive as numpy.savez writes it."""
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1], "w") as z:
    for spec in sys.argv[2:]:
        name, path = spec.split("=", 1)
        z.write(path, name + ".npy")
