// Self-attention (4 heads of 8) written in TOSA, one sequence of 16 tokens.
func.func @tosa_attention(%x: tensor<1x16x32xf32>, %wq: tensor<1x32x32xf32>, %wk: tensor<1x32x32xf32>,
                          %wv: tensor<1x32x32xf32>, %wo: tensor<1x32x32xf32>) -> tensor<1x16x32xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %scale = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s_heads = tosa.const_shape {values = dense<[1, 16, 4, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %s_batch = tosa.const_shape {values = dense<[4, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %s_back = tosa.const_shape {values = dense<[1, 16, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %q = tosa.matmul %x, %wq, %zp, %zp : (tensor<1x16x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x32xf32>
  %k = tosa.matmul %x, %wk, %zp, %zp : (tensor<1x16x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x32xf32>
  %v = tosa.matmul %x, %wv, %zp, %zp : (tensor<1x16x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x32xf32>
  %q4 = tosa.reshape %q, %s_heads : (tensor<1x16x32xf32>, !tosa.shape<4>) -> tensor<1x16x4x8xf32>
  %k4 = tosa.reshape %k, %s_heads : (tensor<1x16x32xf32>, !tosa.shape<4>) -> tensor<1x16x4x8xf32>
  %v4 = tosa.reshape %v, %s_heads : (tensor<1x16x32xf32>, !tosa.shape<4>) -> tensor<1x16x4x8xf32>
  %qt = tosa.transpose %q4 {perms = array<i32: 0, 2, 1, 3>} : (tensor<1x16x4x8xf32>) -> tensor<1x4x16x8xf32>
  %kt = tosa.transpose %k4 {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x16x4x8xf32>) -> tensor<1x4x8x16xf32>
  %vt = tosa.transpose %v4 {perms = array<i32: 0, 2, 1, 3>} : (tensor<1x16x4x8xf32>) -> tensor<1x4x16x8xf32>
  %s_q = tosa.const_shape {values = dense<[4, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %s_k = tosa.const_shape {values = dense<[4, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %q3 = tosa.reshape %qt, %s_q : (tensor<1x4x16x8xf32>, !tosa.shape<3>) -> tensor<4x16x8xf32>
  %k3 = tosa.reshape %kt, %s_k : (tensor<1x4x8x16xf32>, !tosa.shape<3>) -> tensor<4x8x16xf32>
  %v3 = tosa.reshape %vt, %s_q : (tensor<1x4x16x8xf32>, !tosa.shape<3>) -> tensor<4x16x8xf32>
  %scores = tosa.matmul %q3, %k3, %zp, %zp : (tensor<4x16x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x16x16xf32>
  %scaled = tosa.mul %scores, %scale, %shift : (tensor<4x16x16xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x16x16xf32>
  %mx = tosa.reduce_max %scaled {axis = 2 : i32} : (tensor<4x16x16xf32>) -> tensor<4x16x1xf32>
  %sub = tosa.sub %scaled, %mx : (tensor<4x16x16xf32>, tensor<4x16x1xf32>) -> tensor<4x16x16xf32>
  %ex = tosa.exp %sub : (tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %sm = tosa.reduce_sum %ex {axis = 2 : i32} : (tensor<4x16x16xf32>) -> tensor<4x16x1xf32>
  %rc = tosa.reciprocal %sm : (tensor<4x16x1xf32>) -> tensor<4x16x1xf32>
  %p = tosa.mul %ex, %rc, %shift : (tensor<4x16x16xf32>, tensor<4x16x1xf32>, tensor<1xi8>) -> tensor<4x16x16xf32>
  %ctx = tosa.matmul %p, %v3, %zp, %zp : (tensor<4x16x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x16x8xf32>
  %s_c4 = tosa.const_shape {values = dense<[1, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %c4 = tosa.reshape %ctx, %s_c4 : (tensor<4x16x8xf32>, !tosa.shape<4>) -> tensor<1x4x16x8xf32>
  %ct = tosa.transpose %c4 {perms = array<i32: 0, 2, 1, 3>} : (tensor<1x4x16x8xf32>) -> tensor<1x16x4x8xf32>
  %c3 = tosa.reshape %ct, %s_back : (tensor<1x16x4x8xf32>, !tosa.shape<3>) -> tensor<1x16x32xf32>
  %o = tosa.matmul %c3, %wo, %zp, %zp : (tensor<1x16x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x32xf32>
  return %o : tensor<1x16x32xf32>
}
