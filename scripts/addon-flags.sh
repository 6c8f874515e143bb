# Sourced by the builds and checks that compile native/ without node-gyp (prebuild-win32.sh,
# prebuild-musl.sh, check-platforms.sh): sets node_inc, the running Node's include/node, and
# addon_flags, the flags and defines of binding.gyp (+ node-addon-api's except.gypi and what
# node-gyp adds to an addon), so that those builds compile what node-gyp compiles.
# uv.h is not in node-api-headers: take the running Node's include/node (as CMakeLists.txt does).
# libuv 1.x keeps its ABI, so one Node's headers serve every major that has Node-API 8.
node_inc=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
[[ -f $node_inc/uv.h ]] || node_inc=${npm_config_nodedir:-/nonexistent}/include/node
[[ -f $node_inc/uv.h ]] || { echo "uv.h not found: Node's headers are needed (set npm_config_nodedir)" >&2; exit 2; }
addon_flags=(-std=c++17 -Wall -Wextra
  -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
  -DNODE_GYP_MODULE_NAME=background_thread -DBUILDING_NODE_EXTENSION
  -Inative/vendor/node-addon-api -I"$node_inc")
