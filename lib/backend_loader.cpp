// Finding the CUDA backend at run time. libvcp links no CUDA library: the CUDA backend is the plugin
// libvcp_cuda.so (target vcp_cuda, lib/cuda/), loaded with dlopen on first use, so that vcp starts in
// milliseconds and runs on machines with no CUDA runtime at all. In order:
//
//   1. built without CUDA             -> "this vcp was built without CUDA ..."
//   2. dlopen("libcuda.so.1") fails   -> "no NVIDIA driver (libcuda.so.1 not found)"; checked before anything
//                                        loads the CUDA runtime, so a CPU-only machine pays one failed lookup
//   3. the plugin: $VCP_CUDA_PLUGIN when set, else <dir of the executable>/../lib/libvcp_cuda.so (the build
//      tree's build/lib/ and an installed prefix/lib/), else next to the executable
//   4. its entry point vcp_cuda_backend_stages() returns the stage table; a table of another
//      kBackendInterfaceVersion is refused before anything else in it is read
//
// The result of the default lookup is cached for the life of the process (the plugin is never unloaded: its
// tables and code back every CUDA commitment).
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "backend.h"

namespace vcp {

namespace {

constexpr const char* kPluginFile = "libvcp_cuda.so";
constexpr const char* kEntryPoint = "vcp_cuda_backend_stages";
using EntryPoint = const BackendStages* (*)();

// The directory of the running executable, from /proc/self/exe (empty when it cannot be read).
std::string ExecutableDir() {
  std::string path(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size());
  if (n <= 0 || static_cast<size_t>(n) >= path.size()) return {};
  path.resize(static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

#if VCP_CUDA_PLUGIN_BUILT
Result<const BackendStages*> FindAndLoad() {
  // The driver, cheaply: without it nothing CUDA can run, and loading the plugin would map the CUDA runtime and
  // run cuBLASLt's static initialisation (about half a second) for nothing.
  if (::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL) == nullptr) {
    return Status::Unavailable("no NVIDIA driver (libcuda.so.1 not found)");
  }
  if (const char* env = std::getenv("VCP_CUDA_PLUGIN"); env != nullptr && *env != '\0') {
    if (::access(env, F_OK) != 0) {
      return Status::Unavailable(std::string("the CUDA plugin was not found (VCP_CUDA_PLUGIN=") + env +
                                 " does not exist)");
    }
    return LoadBackendPlugin(env);
  }
  const std::string dir = ExecutableDir();
  std::vector<std::string> candidates;
  if (!dir.empty()) {
    candidates.push_back(dir + "/../lib/" + kPluginFile);
    candidates.push_back(dir + "/" + kPluginFile);
  }
  for (const std::string& path : candidates) {
    if (::access(path.c_str(), F_OK) == 0) return LoadBackendPlugin(path);
  }
  std::string looked;
  for (const std::string& path : candidates) looked += (looked.empty() ? "" : ", ") + path;
  return Status::Unavailable("the CUDA plugin was not found (looked for " +
                             (looked.empty() ? std::string("it next to the executable") : looked) +
                             "; build target vcp_cuda or set VCP_CUDA_PLUGIN=path)");
}
#else
Result<const BackendStages*> FindAndLoad() {
  return Status::Unavailable(
      "this vcp was built without CUDA (nvcc was not found at configure time, or -DVCP_WITH_CUDA=OFF)");
}
#endif

}  // namespace

// Loads the plugin at path and checks its interface version (also used by tests on a plugin of their own).
Result<const BackendStages*> LoadBackendPlugin(const std::string& path) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status::Unavailable("the CUDA plugin " + path + " could not be loaded: " + (why ? why : "unknown error"));
  }
  auto entry = reinterpret_cast<EntryPoint>(::dlsym(handle, kEntryPoint));
  if (entry == nullptr) {
    ::dlclose(handle);
    return Status::Unavailable("the CUDA plugin " + path + " is not a vcp backend plugin (it has no " + kEntryPoint +
                               ")");
  }
  const BackendStages* stages = entry();
  if (stages == nullptr || stages->interface_version != kBackendInterfaceVersion) {
    const std::string found = stages == nullptr ? "no" : std::to_string(stages->interface_version);
    ::dlclose(handle);
    return Status::Unavailable("the CUDA plugin " + path + " implements backend interface version " + found +
                               " but this vcp needs version " + std::to_string(kBackendInterfaceVersion) +
                               "; rebuild the plugin from the same source (target vcp_cuda)");
  }
  return stages;
}

Result<const BackendStages*> CudaBackend() {
  static const Result<const BackendStages*> loaded = FindAndLoad();
  return loaded;
}

Result<const BackendStages*> FindBackend(std::string_view name) {
  if (name == "cpu") return &CpuBackend();
  if (name == "cuda") return CudaBackend();
  return Status::InvalidArgument("unknown backend '" + std::string(name) + "'; allowed: cpu, cuda");
}

}  // namespace vcp
