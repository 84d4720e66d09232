// swift-tools-version: 6.0
import PackageDescription

/// Settings shared by the Swift targets that run on the device.
let runtimeSwiftSettings: [SwiftSetting] = [
  .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
  .define("EMBER_CHECKS", .when(configuration: .debug)),
]

/// Settings of the device CLI's own code (argument parsing, CSV, output), kept small.
let sizeSwiftSettings: [SwiftSetting] = [
  .unsafeFlags(["-Osize", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
  .define("EMBER_CHECKS", .when(configuration: .debug)),
]

let package = Package(
  name: "Ember",
  products: [
    .executable(name: "ember", targets: ["EmberCLI"]),
    .executable(name: "ember-edge", targets: ["EmberEdge"]),
    .library(name: "EmberFormat", targets: ["EmberFormat"]),
    .library(name: "EmberRuntime", targets: ["EmberRuntime"]),
    .library(name: "EmberTrainer", targets: ["EmberTrainer"]),
    .library(name: "EmberText", targets: ["EmberText"]),
    .library(name: "CEmber", type: .dynamic, targets: ["EmberC"]),
    .library(name: "CEmberStatic", type: .static, targets: ["EmberC"]),
    // The runtime's and the trainer's C APIs in one library, for hosts that train in process
    // (the Python package): one copy of the runtime in the process; libCEmber stays Foundation-free.
    .library(name: "CEmberTrainer", type: .dynamic, targets: ["EmberC", "EmberTrainerC"]),
  ],
  dependencies: [
  ],
  targets: [
    // C++ over the flatc-generated header, exposed as a plain C API (ember_fb.h).
    .target(
      name: "_EmberFlatBuffers",
      dependencies: ["_EmberSystem"],
      exclude: ["generated"],
      cxxSettings: [
        .define("FLATBUFFERS_MAX_ALIGNMENT", to: "64"),
        .define("NDEBUG"),
        .unsafeFlags(["-O2"]),
      ]
    ),
    // SIMD kernels (packed matrix product, activations) with run-time CPU dispatch.
    .target(
      name: "_EmberKernels",
      dependencies: ["_EmberSystem"],
      exclude: ["kernels_impl.h"],
      cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=off", "-Wno-psabi"])]
    ),
    // OS calls (open, read, write, …) as plain C, so Swift code needs no Glibc/Musl import
    // and compiles in Embedded mode too.
    .target(name: "_EmberSystem", cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("m")]),
    // Text I/O without Foundation: streaming CSV reader, decimal parser, float writer.
    .target(
      name: "EmberText",
      dependencies: ["_EmberSystem"],
      swiftSettings: runtimeSwiftSettings
    ),
    // The file format: schema-backed reading, verification, validation and writing.
    .target(
      name: "EmberFormat",
      dependencies: ["_EmberFlatBuffers", "_EmberSystem"],
      swiftSettings: runtimeSwiftSettings
    ),
    // Math on the device: preprocessing, energies, scoring, classification, samplers.
    .target(
      name: "EmberRuntime",
      dependencies: [
        "EmberFormat", "EmberText", "_EmberKernels", "_EmberSystem",
      ],
      swiftSettings: runtimeSwiftSettings
    ),
    // Offline training: CSV ingest, objectives, calibration, export.
    .target(
      name: "EmberTrainer",
      dependencies: ["EmberFormat", "EmberRuntime", "EmberText", "_EmberKernels", "_EmberSystem"],
      swiftSettings: runtimeSwiftSettings
    ),
    // The C API's types and constants (ember.h, read by the C compiler) for the Swift code that
    // implements it: struct layouts and status values are declared once, in the header.
    .target(name: "_EmberCAPITypes"),
    // The C API (ember.h) for C, C++ and Python hosts.
    .target(
      name: "EmberC",
      dependencies: ["EmberFormat", "EmberRuntime", "_EmberCAPITypes"],
      swiftSettings: runtimeSwiftSettings
    ),
    // `ember train`'s options, declared once in the one option table (OptionSpec): read by the
    // `ember` CLI and by the trainer C API (and through it by the Python package).
    .target(
      name: "EmberTrainArguments",
      dependencies: ["EmberCommands", "EmberTrainer", "EmberRuntime", "EmberFormat", "EmberText"]
    ),
    // The trainer's C API (ember_train.h): in-process training for C and Python hosts.
    .target(
      name: "EmberTrainerC",
      dependencies: ["EmberC", "EmberCommands", "EmberTrainer", "EmberTrainArguments", "EmberFormat", "EmberText"]
    ),
    // The command line of both CLIs without Foundation: the option table, scanner, runner,
    // exit-status mapping and the verbs except train (which `ember` adds).
    // Optimised for size: the device binary's budget is 8 MB, and the per-row work here (CSV
    // fields, output text) is small next to the energies computed in EmberRuntime.
    .target(
      name: "EmberCommands",
      dependencies: ["EmberFormat", "EmberRuntime", "EmberText", "_EmberSystem"],
      swiftSettings: sizeSwiftSettings
    ),
    // `ember`: the full CLI for development machines: the device verbs plus train.
    .executableTarget(
      name: "EmberCLI",
      dependencies: ["EmberFormat", "EmberRuntime", "EmberTrainer", "EmberTrainArguments", "EmberCommands", "_EmberSystem"],
      swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
    ),
    // `ember-edge`: the device CLI (no Foundation, no ArgumentParser; every verb but train).
    .executableTarget(
      name: "EmberEdge",
      dependencies: ["EmberCommands", "_EmberSystem"],
      swiftSettings: sizeSwiftSettings
    ),
    .testTarget(name: "EmberFormatTests", dependencies: ["EmberFormat"], resources: [.copy("Fixtures")]),
    .testTarget(name: "EmberRuntimeTests", dependencies: ["EmberRuntime", "EmberFormat"]),
    .testTarget(name: "EmberTrainerTests", dependencies: ["EmberTrainer", "EmberTrainArguments", "EmberRuntime", "EmberFormat"]),
    // Throughput of EmberText and a long differential check of its decimal parser.
    .executableTarget(
      name: "ember-text-bench", dependencies: ["EmberText", "EmberFormat", "EmberRuntime"], path: "tools/text/bench"),
    .testTarget(name: "EmberTextTests", dependencies: ["EmberText"]),
    .testTarget(name: "EmberCLITests", dependencies: ["EmberFormat", "EmberCommands"]),
  ],
  cxxLanguageStandard: .cxx17
)
