import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleNvidiaCDITests: XCTestCase {
    typealias F = ModuleFixture

    let apt = ModuleContext(facts: ValueDict([("pkg_mgr", "apt")]))
    let spec = "/etc/cdi/nvidia.yaml"
    let stamp = "/etc/cdi/.nvidia.yaml.driver"
    let driverProbe = NvidiaCDIModule.driverProbe
    let toolkitProbe = NvidiaCDIModule.toolkitProbe
    let generate = Action.run(Command(["nvidia-ctk", "cdi", "generate", "--output=/etc/cdi/nvidia.yaml"]))

    func cdi(_ arguments: KeyValuePairs<String, Value> = [:]) throws -> NvidiaCDIModule { try F.make(NvidiaCDIModule.self, arguments) }

    /// Plans with the driver (nil: no NVIDIA driver), nvidia-ctk present or not, and the files there.
    func plan(_ arguments: KeyValuePairs<String, Value> = [:], driver: String?, toolkit: Bool,
              spec hasSpec: Bool, stamp recorded: String?, folder: Bool = true, context: ModuleContext? = nil) throws -> Plan {
        var files: [String: FileState] = [:]
        if folder { files["/etc/cdi"] = F.directory() }
        if hasSpec { files[spec] = F.file("cdiVersion: 0.5.0\n") }
        if let recorded { files[stamp] = F.file(recorded) }
        return try F.plan(try cdi(arguments), files: files,
                          commands: [driverProbe: driver.map { F.ok($0 + "\n") } ?? F.failed(1),
                                     toolkitProbe: toolkit ? F.ok("/usr/bin/nvidia-ctk\n") : F.failed(127)],
                          context: context ?? apt)
    }

    func testDeclaration() throws {
        let module = try cdi()
        XCTAssertTrue(module.present)
        XCTAssertEqual(module.output, spec)
        XCTAssertEqual(module.stamp, stamp)
        XCTAssertEqual(module.toolkitPackage, "nvidia-container-toolkit")
        XCTAssertTrue(module.installToolkit)
        XCTAssertThrowsError(try cdi(["output": "nvidia.yaml"])) { XCTAssertEqual(($0 as? ModuleError)?.argument, "output") }
        XCTAssertThrowsError(try cdi(["toolkit_package": "-y"])) { XCTAssertEqual(($0 as? ModuleError)?.argument, "toolkit_package") }
        XCTAssertEqual(ModuleCatalog.all.filter { $0 == NvidiaCDIModule.self }.count, 1)
    }

    /// The driver probe on sample version files: both the proprietary and the open module's line.
    func testDriverProbeReadsBothModuleKinds() throws {
        let samples = [
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0\n",
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  "
                + "Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0\n",
        ]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nvcdi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func run(_ path: String) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", NvidiaCDIModule.driverScript(versionFile: path)]
            // No nvidia-smi on the PATH, so a missing file means no driver.
            process.environment = ["PATH": "/usr/bin:/bin"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        for (index, sample) in samples.enumerated() {
            let path = folder.appendingPathComponent("version\(index)").path
            try sample.write(toFile: path, atomically: true, encoding: .utf8)
            let (status, output) = try run(path)
            XCTAssertEqual(status, 0)
            XCTAssertEqual(output, "550.54.15\n", sample)
            XCTAssertEqual(NvidiaCDIModule.driverVersion(CommandOutput(status: status, stdout: output)), "550.54.15")
        }
        guard !FileManager.default.fileExists(atPath: "/usr/bin/nvidia-smi") else { return }
        XCTAssertEqual(try run(folder.appendingPathComponent("none").path).0, 1)
    }

    func testDriverVersionForm() {
        XCTAssertNil(NvidiaCDIModule.driverVersion(F.ok("")))
        XCTAssertNil(NvidiaCDIModule.driverVersion(F.failed(1)))
        XCTAssertNil(NvidiaCDIModule.driverVersion(nil))
        // nvidia-smi prints its failures on stdout.
        XCTAssertNil(NvidiaCDIModule.driverVersion(F.ok("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n")))
        XCTAssertEqual(NvidiaCDIModule.driverVersion(F.ok("535.104.05\n535.104.05\n")), "535.104.05")
    }

    func testObservations() throws {
        XCTAssertEqual(try cdi().observations(apt), [
            .command(driverProbe), .command(toolkitProbe), .file(path: "/etc/cdi", content: false),
            .file(path: spec, content: false), .file(path: stamp, content: true),
        ])
        XCTAssertEqual(try cdi(["state": "absent"]).observations(apt), [.file(path: spec, content: false), .file(path: stamp, content: true)])
    }

    func testNoGPUIsSkipped() throws {
        let result = try plan(driver: nil, toolkit: false, spec: false, stamp: nil)
        XCTAssertEqual(result.skipReason, "no NVIDIA GPU")
        XCTAssertNil(result.failure)
        XCTAssertFalse(result.isChanged)
        XCTAssertEqual(try plan(driver: "", toolkit: true, spec: false, stamp: nil).skipReason, "no NVIDIA GPU")
        // Even where nothing could install the toolkit.
        XCTAssertEqual(try plan(driver: nil, toolkit: false, spec: false, stamp: nil, context: ModuleContext()).skipReason, "no NVIDIA GPU")
    }

    func testFreshGPUHost() throws {
        let result = try plan(driver: "550.54.15", toolkit: false, spec: false, stamp: nil, folder: false)
        XCTAssertEqual(result.summaries, [
            "install nvidia-container-toolkit (from NVIDIA's repository) for nvidia-ctk",
            "generate /etc/cdi/nvidia.yaml for driver 550.54.15 (missing)",
        ])
        XCTAssertEqual(result.actions, [
            .run(PackageManager.apt.installCommand(["nvidia-container-toolkit"])),
            .makeDirectory(path: "/etc/cdi", attributes: FileAttributes(mode: 0o755)),
            generate,
            .writeFile(path: stamp, content: Array("550.54.15\n".utf8), attributes: FileAttributes(mode: 0o644), backup: false),
        ])
        XCTAssertEqual(result.result["driver_version"], "550.54.15")
        XCTAssertEqual(result.result["spec"], .string(spec))
        let dnf = ModuleContext(facts: ValueDict([("pkg_mgr", "dnf")]))
        XCTAssertEqual(try plan(driver: "550.54.15", toolkit: false, spec: false, stamp: nil, context: dnf).actions.first,
                       .run(Command(["dnf", "install", "-y", "nvidia-container-toolkit"])))
    }

    func testConvergedIsNoChange() throws {
        let result = try plan(driver: "550.54.15", toolkit: true, spec: true, stamp: "550.54.15\n")
        XCTAssertFalse(result.isChanged)
        XCTAssertEqual(result.result["driver_version"], "550.54.15")
    }

    func testDriverChangeRegenerates() throws {
        let result = try plan(driver: "550.90.07", toolkit: true, spec: true, stamp: "550.54.15\n")
        XCTAssertEqual(result.summaries, ["generate /etc/cdi/nvidia.yaml for driver 550.90.07 (made for driver 550.54.15)"])
        XCTAssertEqual(result.actions.first, generate)
        XCTAssertEqual(result.written, "550.90.07\n")
        XCTAssertEqual(result.changes.first?.diff, TextDiff(label: stamp, before: "550.54.15\n", after: "550.90.07\n"))
        // A spec without a stamp was made for an unknown driver.
        XCTAssertEqual(try plan(driver: "550.90.07", toolkit: true, spec: true, stamp: nil).summaries,
                       ["generate /etc/cdi/nvidia.yaml for driver 550.90.07 (made for an unknown driver)"])
    }

    func testToolkitPresentSpecMissing() throws {
        let result = try plan(driver: "550.54.15", toolkit: true, spec: false, stamp: "550.54.15\n")
        XCTAssertEqual(result.actions.first, generate)
        XCTAssertEqual(result.summaries, ["generate /etc/cdi/nvidia.yaml for driver 550.54.15 (missing)"])
    }

    func testAbsentRemovesSpecAndStamp() throws {
        let module = try cdi(["state": "absent"])
        let result = try F.plan(module, files: [spec: F.file("x"), stamp: F.file("550.54.15\n")])
        XCTAssertEqual(result.actions, [.remove(path: spec), .remove(path: stamp)])
        XCTAssertFalse(try F.plan(module).isChanged)
    }

    func testCheckModePlansTheSame() throws {
        let check = ModuleContext(facts: apt.facts, checkMode: true)
        let result = try plan(driver: "550.54.15", toolkit: false, spec: false, stamp: nil, context: check)
        XCTAssertEqual(result.changes.count, 2)
        // An earlier task that would install the toolkit did not run in check mode.
        let pending = try plan(["install_toolkit": false], driver: "550.54.15", toolkit: false, spec: false, stamp: nil, context: check)
        XCTAssertNil(pending.failure)
        XCTAssertEqual(pending.actions.first, generate)
    }

    func testMissingToolkitWithoutInstallFails() throws {
        let result = try plan(["install_toolkit": false], driver: "550.54.15", toolkit: false, spec: false, stamp: nil)
        XCTAssertEqual(result.failure, "nvidia-ctk is not installed and install_toolkit is false: install nvidia-container-toolkit "
            + "(from NVIDIA's repository) first, or set install_toolkit: true")
        XCTAssertTrue(try plan(driver: "550.54.15", toolkit: false, spec: false, stamp: nil, context: ModuleContext())
            .failure?.hasPrefix("no supported package manager") == true)
    }
}
