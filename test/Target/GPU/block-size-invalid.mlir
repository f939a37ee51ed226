// The kernel-launching passes share one block-size check: at most 1024
// threads (CUDA's limit), a multiple of a warp where a warp takes a row.
// RUN: not tp-opt %s --tp-gpu-tile-parallel-loops="block-size=2048" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not tp-opt %s --tp-gpu-map-elementwise="block-size=0" 2>&1 | FileCheck %s --check-prefix=ELEM
// RUN: not tp-opt %s --tp-gpu-map-row-groups="block-size=48" 2>&1 | FileCheck %s --check-prefix=ROWS
// TILE: error: block-size must be in [1, 1024], got 2048
// ELEM: error: block-size must be in [1, 1024], got 0
// ROWS: error: block-size must be a multiple of 32 in [32, 1024], got 48
func.func @f() {
  return
}
