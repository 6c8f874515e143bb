{
  "targets": [
    {
      "target_name": "background_thread",
      "sources": ["native/addon.cc", "native/joiners.cc", "native/thread.cc", "native/module_thread.cc", "native/os_thread.cc", "native/portable_abi.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
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
