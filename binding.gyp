{
  "targets": [
    {
      "target_name": "trirl_native",
      "sources": ["native/addon.cc", "native/sgemm.cc", "native/elementwise.cc", "native/fused.cc", "native/layer.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-ffp-contract=off"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17"],
      "ldflags": ["-pthread"]
    }
  ]
}
