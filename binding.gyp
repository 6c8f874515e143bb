{
  "targets": [
    {
      "target_name": "background_thread",
      "sources": ["native/loop.cc", "native/joiners.cc", "native/record.cc", "native/carrier.cc", "native/adopted.cc", "native/os_thread.cc", "native/portable_abi.cc"],
      # node-addon-api's headers ship with the sources (scripts/vendor-node-addon-api.mjs), with
      # its settings for C++ exceptions: a build from source needs no dependency installed.
      "include_dirs": ["native/vendor/node-addon-api"],
      "includes": ["native/vendor/node-addon-api/except.gypi"],
      # A Worker terminated while JS is inside one of our calls makes every Node-API call fail;
      # node-addon-api would then throw while throwing (std::terminate). Swallow what cannot be
      # thrown: the env is going away anyway.
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {
          # Workers dlclose() the addon when they end; a thread still returning through our code
          # would jump into unmapped memory. Never unload it.
          "ldflags": ["-Wl,-z,nodelete"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "10.15"
          }
        }]
      ]
    }
  ]
}
