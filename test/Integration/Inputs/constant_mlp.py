#!/usr/bin/env python3
"""Prints an MLP whose weights are dense constants (seeded random values)."""
import random

rng = random.Random(7)
E, F, T = 8, 16, 4


def dense(rows, cols):
    vals = [[f"{rng.uniform(-0.5, 0.5):.6f}" for _ in range(cols)] for _ in range(rows)]
    return "dense<[" + ", ".join("[" + ", ".join(r) + "]" for r in vals) + "]>"


print(f"""func.func @constant_mlp(%x: tensor<{T}x{E}xf32>) -> tensor<{T}x{E}xf32> {{
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant {dense(E, F)} : tensor<{E}x{F}xf32>
  %w2 = arith.constant {dense(F, E)} : tensor<{F}x{E}xf32>
  %e1 = tensor.empty() : tensor<{T}x{F}xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<{T}x{F}xf32>) -> tensor<{T}x{F}xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<{T}x{E}xf32>, tensor<{E}x{F}xf32>) outs(%f1 : tensor<{T}x{F}xf32>) -> tensor<{T}x{F}xf32>
  %r = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%h : tensor<{T}x{F}xf32>) outs(%e1 : tensor<{T}x{F}xf32>) {{
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  }} -> tensor<{T}x{F}xf32>
  %e2 = tensor.empty() : tensor<{T}x{E}xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<{T}x{E}xf32>) -> tensor<{T}x{E}xf32>
  %y = linalg.matmul ins(%r, %w2 : tensor<{T}x{F}xf32>, tensor<{F}x{E}xf32>) outs(%f2 : tensor<{T}x{E}xf32>) -> tensor<{T}x{E}xf32>
  return %y : tensor<{T}x{E}xf32>
}}""")
