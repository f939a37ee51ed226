# Installation and the CMake package of tp-mlir.
#
#   cmake --install BUILD --prefix PREFIX
#
# installs
#   PREFIX/include/tp/**            headers, TableGen sources and the generated .inc files
#   PREFIX/lib/libTP*.a             the compiler libraries (static; they link libMLIR.so)
#   PREFIX/lib/TPPlugin.so          the mlir-opt dialect + pass plugin
#   PREFIX/lib/libtp_runtime_*.so   the runtime (installed by runtime/CMakeLists.txt)
#   PREFIX/bin/tp-opt, tp-run, tp-launch
#   PREFIX/lib/cmake/TPMLIR/        TPMLIRConfig.cmake: find_package(TPMLIR CONFIG)
#
# An embedding project does
#
#   find_package(TPMLIR REQUIRED CONFIG)   # finds MLIR (the same one) too
#   target_link_libraries(my-compiler PRIVATE TPMLIR::TPMLIR)
#
# TPMLIR::TPMLIR brings the include directories (ours, MLIR's, LLVM's), C++17,
# and links every tp library and the shared MLIR library.
#
# Included once from the top-level CMakeLists.txt, after every target exists.

include(CMakePackageConfigHelpers)

set(TP_INSTALL_PACKAGE_DIR lib/cmake/TPMLIR)

# The compiler libraries, in dependency order (all static, DISABLE_INSTALL in
# add_mlir_library, so they are installed here). Every library that
# TPInitAll links must be in the export set, or `install(EXPORT)` fails at
# configure time ("requires target ... that is not in any export set"): a new
# library either joins this list or installs itself with
# `install(TARGETS X EXPORT TPMLIRTargets ARCHIVE DESTINATION lib)`, not both.
set(TP_LIBRARIES
  TPUtils
  TPCommonTransforms
  TPDialect
  TPInterfaces
  TPAnalysis
  TPTransforms
  TPToRuntime
  TPEntryPoint
  TPTargetCPU
  TPTargetGPU
  TPPipelines
  TPInitAll)

# The umbrella target embedders link.
add_library(TPMLIR INTERFACE)
add_library(TPMLIR::TPMLIR ALIAS TPMLIR)
target_link_libraries(TPMLIR INTERFACE TPInitAll)
target_include_directories(TPMLIR INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
  $<INSTALL_INTERFACE:include>)
target_compile_features(TPMLIR INTERFACE cxx_std_17)

install(TARGETS ${TP_LIBRARIES} TPMLIR
  EXPORT TPMLIRTargets
  ARCHIVE DESTINATION lib
  LIBRARY DESTINATION lib)

# Headers: the sources, then the generated declarations next to them.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tp
  DESTINATION include
  FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/tp
  DESTINATION include
  FILES_MATCHING PATTERN "*.inc"
  PATTERN "CMakeFiles" EXCLUDE)

# Tools and the plugin. Installed binaries find libMLIR.so / libLLVM.so in
# LLVM's library directory and our shared libraries (the runtime) in ../lib.
set(TP_INSTALL_RPATH "\$ORIGIN/../lib" "${LLVM_LIBRARY_DIR}")
set(TP_INSTALLED_TOOLS tp-opt tp-run TPPlugin)
set_target_properties(${TP_INSTALLED_TOOLS} PROPERTIES
  INSTALL_RPATH "${TP_INSTALL_RPATH}")
install(TARGETS tp-opt tp-run RUNTIME DESTINATION bin)
install(TARGETS TPPlugin LIBRARY DESTINATION lib)
if(TARGET tp-launch)
  # runtime/CMakeLists.txt installs tp-launch next to libtp_runtime_mpi.so's
  # ../lib; without an RPATH the installed launcher would not find it.
  set_target_properties(tp-launch PROPERTIES INSTALL_RPATH "\$ORIGIN/../lib")
endif()

install(EXPORT TPMLIRTargets
  NAMESPACE TPMLIR::
  DESTINATION ${TP_INSTALL_PACKAGE_DIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/TPMLIRConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/TPMLIRConfig.cmake
  INSTALL_DESTINATION ${TP_INSTALL_PACKAGE_DIR}
  PATH_VARS TP_INSTALL_PACKAGE_DIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/TPMLIRConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/TPMLIRConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/TPMLIRConfigVersion.cmake
  DESTINATION ${TP_INSTALL_PACKAGE_DIR})
