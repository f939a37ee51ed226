#!/usr/bin/env python3
"""Unit tests of scripts/layer_spec.py's pure helpers (no NumPy, no PyTorch):
the relative error gpu-check reports, the tolerances, the .npy header
reader, the signature parser's edge cases."""
import math
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "scripts"))
import layer_spec  # noqa: E402


class RelativeError(unittest.TestCase):
    def test_scaled_by_the_largest_reference(self):
        self.assertAlmostEqual(layer_spec.relative_error([1.0, 2.5], [1.0, 2.0]),
                               0.25)

    def test_exact_and_zero(self):
        self.assertEqual(layer_spec.relative_error([0.0, 3.0], [0.0, 3.0]), 0.0)
        self.assertEqual(layer_spec.relative_error([0.5], [0.0]), 0.5)

    def test_nan_and_length_mismatch_fail(self):
        self.assertEqual(layer_spec.relative_error([math.nan], [1.0]), math.inf)
        self.assertEqual(layer_spec.relative_error([1.0], [math.nan]), math.inf)
        self.assertEqual(layer_spec.relative_error([1.0], [1.0, 2.0]), math.inf)

    def test_tolerances(self):
        self.assertEqual(layer_spec.tolerance("f32"), 1e-3)
        self.assertEqual(layer_spec.tolerance("bf16"), 3e-2)
        self.assertLess(layer_spec.tolerance("f16"), layer_spec.tolerance("bf16"))


class NpyShape(unittest.TestCase):
    def write(self, version, header):
        fd, path = tempfile.mkstemp(suffix=".npy")
        with os.fdopen(fd, "wb") as f:
            size = struct.pack("<H" if version == 1 else "<I", len(header))
            f.write(b"\x93NUMPY" + bytes([version, 0]) + size +
                    header.encode("latin1"))
        self.addCleanup(os.unlink, path)
        return path

    def test_versions_and_scalars(self):
        h = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n"
        self.assertEqual(layer_spec.npy_shape(self.write(1, h)), [3, 4])
        self.assertEqual(layer_spec.npy_shape(self.write(2, h)), [3, 4])
        s = "{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n"
        self.assertEqual(layer_spec.npy_shape(self.write(1, s)), [])

    def test_not_npy(self):
        fd, path = tempfile.mkstemp()
        os.write(fd, b"PK\x03\x04 not a npy file")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        with self.assertRaisesRegex(layer_spec.SpecError, "not a .npy file"):
            layer_spec.npy_shape(path)


class Signature(unittest.TestCase):
    def test_named_entry_and_scalars(self):
        text = ("func.func private @helper(%a: tensor<2xf32>)\n"
                "func.func @main(%x: tensor<2x3xbf16>, %n: tensor<i64>) {")
        name, args = layer_spec.parse_signature(text)
        self.assertEqual(name, "helper")
        name, args = layer_spec.parse_signature(text, "main")
        self.assertEqual(args, [("x", [2, 3], "bf16"), ("n", [], "i64")])

    def test_dynamic_shape_and_missing_entry(self):
        with self.assertRaisesRegex(layer_spec.SpecError, "dynamic shape"):
            layer_spec.parse_signature("func.func @f(%x: tensor<?x3xf32>) {")
        with self.assertRaisesRegex(layer_spec.SpecError, "no func.func @g"):
            layer_spec.parse_signature("func.func @f(%x: tensor<3xf32>) {", "g")

    def test_mlp_shapes_checked(self):
        args = [("x", [4, 8], "f32"), ("w1", [16, 8], "f32"),
                ("b1", [16], "f32"), ("w2", [8, 16], "f32"), ("b2", [8], "f32")]
        self.assertEqual(layer_spec.describe(args, 1)["ffn"], 16)
        args[3] = ("w2", [16, 8], "f32")
        with self.assertRaisesRegex(layer_spec.SpecError, "MLP whose shapes"):
            layer_spec.describe(args, 1)


if __name__ == "__main__":
    unittest.main(verbosity=1)
