/*===- FakeCudnn.c - A stand-in libcudnn for tp_rt_attention's fallback ---===*\
|*                                                                            *|
|* Built three ways (runtime/test/CMakeLists.txt):                            *|
|*   FAKE_CUDNN_VERSION   what cudnnGetVersion returns (8907: too old)        *|
|*   FAKE_CUDNN_NO_EXECUTE  leaves cudnnBackendExecute out                    *|
|*   FAKE_CUDNN_DECLINE     every finalize of a descriptor of type            *|
|*                          FAKE_CUDNN_DECLINE (an operation) fails with      *|
|*                          CUDNN_STATUS_NOT_SUPPORTED, as a real cuDNN does  *|
|*                          for a graph it cannot run                         *|
|* It records nothing and touches no GPU.                                     *|
\*===----------------------------------------------------------------------===*/

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef int status_t; /* cudnnStatus_t: 0 success, 3000 not supported */

struct fake_descriptor {
  int type;
};

size_t cudnnGetVersion(void) { return FAKE_CUDNN_VERSION; }

const char *cudnnGetErrorString(status_t s) {
  return s == 0 ? "CUDNN_STATUS_SUCCESS" : "CUDNN_STATUS_NOT_SUPPORTED (fake)";
}

status_t cudnnCreate(void **handle) {
  *handle = NULL;
  return 1001; /* no GPU: CUDNN_STATUS_NOT_INITIALIZED */
}
status_t cudnnDestroy(void *handle) { return 0; }
status_t cudnnSetStream(void *handle, void *stream) { return 0; }

status_t cudnnBackendCreateDescriptor(int type, void **desc) {
  struct fake_descriptor *d = malloc(sizeof *d);
  d->type = type;
  *desc = d;
  return 0;
}
status_t cudnnBackendDestroyDescriptor(void *desc) {
  free(desc);
  return 0;
}
status_t cudnnBackendFinalize(void *desc) {
#ifdef FAKE_CUDNN_DECLINE
  if (((struct fake_descriptor *)desc)->type == FAKE_CUDNN_DECLINE)
    return 3000;
#endif
  return 0;
}
status_t cudnnBackendSetAttribute(void *desc, int name, int type,
                                  int64_t count, const void *value) {
  return 0;
}
status_t cudnnBackendGetAttribute(void *desc, int name, int type,
                                  int64_t requested, int64_t *count,
                                  void *value) {
  if (count)
    *count = 0;
  return 0;
}
#ifndef FAKE_CUDNN_NO_EXECUTE
status_t cudnnBackendExecute(void *handle, void *plan, void *pack) {
  return 0;
}
#endif
