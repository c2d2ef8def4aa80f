// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "devenv",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "devenv", targets: ["devenv"]),
        .library(name: "DevEnvCore", targets: ["DevEnvCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        .systemLibrary(
            name: "CSQLite3", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),

        // Sockets, signals, processes, file locks and file watching: the only code that differs
        // between Linux and Darwin.
        .target(name: "CPlatform"),
        .target(name: "Platform", dependencies: ["CPlatform"], swiftSettings: strict),
        .target(
            name: "DockerEngine",
            dependencies: ["CCurl", "Platform", .product(name: "X509", package: "swift-certificates")],
            swiftSettings: strict),
        .target(name: "Postgres", dependencies: ["CLibPQ"], swiftSettings: strict),
        .target(name: "StateStore", dependencies: ["CSQLite3"], swiftSettings: strict),
        // The core, in layers whose arrows the compiler enforces (README, "Architecture").
        // The stack model: the file, its loading and validation; no engine, no persistence.
        .target(name: "DevEnvModel", dependencies: ["Yams"], swiftSettings: strict),
        // What every engine-facing part shares: the engine protocol, published-port resolution,
        // readiness probes, events and errors of a run, project labels and locks, settings.
        .target(
            name: "DevEnvRuntime",
            dependencies: ["DevEnvModel", "DockerEngine", "Platform", "Postgres", "StateStore"],
            swiftSettings: strict),
        // Roles, databases, Redis passwords, Django; generated secrets; the host's variables.
        .target(
            name: "DevEnvProvisioning",
            dependencies: [
                "DevEnvModel", "DevEnvRuntime", "DockerEngine", "Platform", "Postgres", "StateStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Sample sets: capture, sanitize, seed, snapshot, restore.
        .target(
            name: "DevEnvSamples",
            dependencies: [
                "DevEnvModel", "DevEnvRuntime", "DevEnvProvisioning", "DockerEngine", "Postgres", "StateStore", "Yams",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Kubernetes/OpenShift manifests out, OpenShift templates in: the model only.
        .target(name: "DevEnvRender", dependencies: ["DevEnvModel", "Yams"], swiftSettings: strict),
        // Plan and apply: images, containers, networks, volumes, readiness, the reaper, doctor.
        .target(
            name: "DevEnvOrchestration",
            dependencies: [
                "DevEnvModel", "DevEnvRuntime", "DevEnvProvisioning", "DevEnvSamples", "DockerEngine", "Platform",
                "Postgres", "StateStore", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // All of the above as one import.
        .target(
            name: "DevEnvCore",
            dependencies: [
                "DevEnvModel", "DevEnvRuntime", "DevEnvProvisioning", "DevEnvSamples", "DevEnvRender",
                "DevEnvOrchestration",
            ],
            swiftSettings: strict),
        .target(
            name: "DevEnvCLI",
            dependencies: [
                "DevEnvCore", "Platform", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "devenv", dependencies: ["DevEnvCLI"], swiftSettings: strict),

        // Helper the state-store tests run twice at once, as two real processes.
        .executableTarget(
            name: "statestore-writer", dependencies: ["StateStore"],
            path: "Tests/Helpers/StateStoreWriter", swiftSettings: strict),

        // The stub engine (an HTTP server on a unix socket) the unit tests talk to.
        .target(
            name: "TestSupport", dependencies: ["Platform", "DockerEngine", "DevEnvCore"], path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(
            name: "DockerEngineTests", dependencies: ["DockerEngine", "TestSupport"], exclude: ["fixtures"],
            swiftSettings: strict),
        .testTarget(name: "PlatformTests", dependencies: ["Platform"], swiftSettings: strict),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres"], swiftSettings: strict),
        .testTarget(name: "StateStoreTests", dependencies: ["StateStore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "DevEnvCLITests",
            dependencies: [
                "DevEnvCLI", "DevEnvCore", "StateStore", "Postgres", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "DevEnvCoreTests", dependencies: ["DevEnvCore", "Platform", "TestSupport"], swiftSettings: strict),
        // Needs a real engine (and the local images): `make test` provides both.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "DockerEngine", "DevEnvCore", "Platform", "Postgres", "StateStore", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["peers", "stacks"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

// `make fuzz` (DEVENV_FUZZ=1): libFuzzer targets for the stack loader, the interpolator and the
// log-frame demuxer, built with -sanitize=fuzzer,address into .build-fuzz as a shared library
// that the Makefile links with libFuzzer's own main. Not part of the ordinary build.
if Context.environment["DEVENV_FUZZ"] != nil {
    package.products.append(.library(name: "DevEnvFuzz", type: .dynamic, targets: ["DevEnvFuzz"]))
    package.targets.append(
        .target(
            name: "DevEnvFuzz", dependencies: ["DevEnvCore", "DockerEngine"], path: "Tests/Fuzz/Sources",
            swiftSettings: strict))
}
