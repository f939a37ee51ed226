// RUN: tp-opt %s --tp-gpu-map-reductions="block-size=100" --verify-diagnostics

// One warp per row needs whole warps in a block.
// expected-error @below {{block-size must be a multiple of 32 in [32, 1024], got 100}}
module {
}
