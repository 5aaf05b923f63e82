// swift-tools-version:5.9
import PackageDescription

// Foundation only: no package dependencies, by design (see README).
let package = Package(
    name: "provision",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "provision", targets: ["provision"]),
        .library(name: "Provisioner", targets: ["Provisioner"]),
    ],
    targets: [
        .target(name: "Provisioner", path: "Sources/Provisioner"),
        .target(name: "Modules", dependencies: ["Provisioner"], path: "Sources/Modules"),
        .executableTarget(name: "provision", dependencies: ["Provisioner", "Modules"], path: "Sources/provision"),
        .testTarget(name: "ProvisionerTests", dependencies: ["Provisioner", "Modules"], path: "Tests/ProvisionerTests"),
    ]
)
