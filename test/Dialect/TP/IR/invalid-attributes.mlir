// RUN: tp-opt %s -split-input-file -verify-diagnostics
// The tp attributes on functions and ops are checked against the types they
// describe wherever they appear (TPDialect::verify*Attribute). A module that
// holds a tp attribute has the tp dialect loaded, so each case below names
// one.

// expected-error @+1 {{'func.func' op argument #0: 'tp.sharding' split dimension 2 is out of range for 'tensor<8x16xf32>'}}
func.func @negative_split_dim_out_of_range(%x: tensor<8x16xf32> {tp.sharding = #tp.sharding<split 2>}) -> tensor<8x16xf32> {
  return %x : tensor<8x16xf32>
}

// -----

// expected-error @+1 {{argument #0: 'tp.sharding' the segments of the split sum to 12 but dimension 1 of 'tensor<4x16xf32>' has size 16}}
func.func @negative_segments_do_not_sum(%x: tensor<4x8xf32> {tp.sharding = #tp.sharding<split 1 segments [8, 4]>, tp.global_type = tensor<4x16xf32>}) -> tensor<4x8xf32> {
  return %x : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{result #0: 'tp.sharding' the granule 5 does not divide dimension 1 of 'tensor<4x16xf32>' (size 16)}}
func.func @negative_granule_does_not_divide(%x: tensor<4x16xf32>) -> (tensor<4x16xf32> {tp.sharding = #tp.sharding<split 1 granule 5>}) {
  return %x : tensor<4x16xf32>
}

// -----

module attributes {tp.size = 2 : i64} {
  // expected-error @+1 {{argument #0: 'tp.sharding' local type 'tensor<4x4xf32>' is not the shard of 'tensor<4x16xf32>' that #tp.sharding<split 1> gives each of 2 ranks (expected 'tensor<4x8xf32>')}}
  func.func @negative_local_type_not_the_shard(%x: tensor<4x4xf32> {tp.sharding = #tp.sharding<split 1>, tp.global_type = tensor<4x16xf32>}) -> tensor<4x4xf32> {
    return %x : tensor<4x4xf32>
  }
}

// -----

module attributes {tp.size = 4 : i64} {
  // expected-error @+1 {{argument #0: 'tp.sharding' segment #1 (size 6) is not divisible by the tp size 4}}
  func.func @negative_segment_indivisible(%x: tensor<4x5xf32> {tp.sharding = #tp.sharding<split 1 segments [8, 6, 6]>, tp.global_type = tensor<4x20xf32>}) -> tensor<4x5xf32> {
    return %x : tensor<4x5xf32>
  }
}

// -----

// expected-error @+1 {{argument #0: 'tp.sharding' a replicated value has its global type 'tensor<4x16xf32>' on every rank, got 'tensor<4x8xf32>'}}
func.func @negative_replicated_local_differs(%x: tensor<4x8xf32> {tp.sharding = #tp.sharding<replicated>, tp.global_type = tensor<4x16xf32>}) -> tensor<4x8xf32> {
  return %x : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{argument #0: 'tp.sharding' must be a #tp.sharding attribute, got 3 : i64}}
func.func @negative_sharding_not_an_attribute(%x: tensor<4x8xf32> {tp.sharding = 3, tp.global_type = tensor<4x8xf32>}) -> (tensor<4x8xf32> {tp.sharding = #tp.sharding<replicated>}) {
  return %x : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{'builtin.module' op 'tp.size' must be between 1 and 65536, got 0 (it is the number of ranks in one tensor-parallel group}}
module attributes {tp.size = 0 : i64} {
  func.func @negative_tp_size_zero(%x: tensor<4x8xf32> {tp.sharding = #tp.sharding<replicated>}) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}

// -----

// expected-error @+1 {{'builtin.module' op 'tp.size' must be between 1 and 65536, got -2}}
module attributes {tp.size = -2 : i64} {
  func.func @negative_tp_size_negative(%x: tensor<4x8xf32> {tp.sharding = #tp.sharding<replicated>}) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}

// -----

// expected-error @+1 {{'builtin.module' op 'tp.size' must be between 1 and 65536, got 4294967296}}
module attributes {tp.size = 4294967296 : i64} {
  func.func @negative_tp_size_huge(%x: tensor<4x8xf32> {tp.sharding = #tp.sharding<replicated>}) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}

// -----

func.func @negative_parallel_not_a_string(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %r = tp.rank : index
  // expected-error @+1 {{'linalg.matmul' op unknown 'tp.parallel' value ["column"]; expected "column", "row", "replicated" or "vocab"}}
  %y = linalg.matmul {tp.parallel = ["column"]} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @negative_result_sharding_not_a_sharding(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %r = tp.rank : index
  // expected-error @+1 {{'linalg.matmul' op 'tp.result_sharding' must be a #tp.sharding attribute, got "split 1"}}
  %y = linalg.matmul {tp.parallel = "column", tp.result_sharding = "split 1"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// Valid: a padded granular split (uneven=pad: 3 heads of 4 over 2 ranks,
// 2 heads each, the last rank's second head padding) and a segmented split
// with a replicated segment.
module attributes {tp.size = 2 : i64} {
  func.func @padded_and_segmented(%x: tensor<4x8xf32> {tp.sharding = #tp.sharding<split 1 granule 4>, tp.global_type = tensor<4x12xf32>},
                                  %y: tensor<4x12xf32> {tp.sharding = #tp.sharding<split 1 segments [16, 4] replicated [1]>, tp.global_type = tensor<4x20xf32>})
      -> (tensor<4x8xf32> {tp.sharding = #tp.sharding<split 1 granule 4>, tp.global_type = tensor<4x12xf32>}) {
    return %x : tensor<4x8xf32>
  }
}
