import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// Applies the plans of `containers_conf`, `registries_conf` and `storage_conf`
/// for real to files in a temporary folder, and has the real podman read them:
/// `podman info` shows the values, and the storage module's probe counts a real
/// store and finds podman's database. Skips without podman unless PROVISION_REQUIRE_INTEGRATION=1.
final class ModuleContainersConfigIntegrationTests: XCTestCase {
    private var workDir: URL?
    private var savedEnvironment: [String: String?] = [:]

    override func tearDownWithError() throws {
        for (name, value) in savedEnvironment {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        if let workDir { try? FileManager.default.removeItem(at: workDir) }
    }

    func testPodmanReadsWhatTheModulesWrite() throws {
        let podman = try PodmanTestSupport.requirePodman()
        let runtime = try XCTUnwrap(["/usr/bin/runc", "/usr/sbin/runc", "/usr/bin/crun"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }, "no OCI runtime for podman")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("provision-podman-modules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        workDir = dir
        func at(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let transport = LocalTransport()
        // podman reads these files; CONTAINERS_STORAGE_CONF names the file before it exists,
        // so podman never touches the system's own store (the module's probe only reads it).
        setEnvironment([
            "CONTAINERS_CONF": at("conf/containers.conf"),
            "CONTAINERS_REGISTRIES_CONF": at("conf/registries.conf"),
            "CONTAINERS_STORAGE_CONF": at("conf/storage.conf"),
        ])

        // containers.conf: a missing file (and folder) starts empty.
        let containers = try apply(ContainersConfModule.self, [
            "path": .string(at("conf/containers.conf")),
            "settings": [
                "engine": ["runtime": "provision-runtime", "cgroup_manager": "cgroupfs", "tmp_dir": .string(at("libpod-tmp"))],
                "engine.runtimes": ["provision-runtime": ["/nonexistent/runtime", .string(runtime)]],
                // systemd is not PID 1 in CI containers: without explicit ulimits podman asks it.
                "containers": ["default_ulimits": ["nofile=1024:1024", "nproc=1024:1024"]],
                // An empty network folder of its own: podman then makes its default network from
                // default_subnet under either backend (apt's CNI conflist keeps 10.88.0.0/16 otherwise).
                "network": ["default_subnet": "10.90.0.0/16", "network_config_dir": .string(at("networks"))],
            ],
        ], transport)
        XCTAssertEqual(containers.summaries.first, "create directory \(at("conf"))")

        // registries.conf: the distribution's file, edited.
        let shipped = (try? String(contentsOfFile: "/etc/containers/registries.conf", encoding: .utf8)) ?? "# registries.conf\n"
        try Data(shipped.utf8).write(to: URL(fileURLWithPath: at("conf/registries.conf")))
        let registries = try apply(RegistriesConfModule.self, [
            "path": .string(at("conf/registries.conf")),
            "unqualified_search_registries": ["registry.example.test"],
            "registries": [["prefix": "registry.example.test", "location": "mirror.example.test:5000", "insecure": true,
                            "mirrors": [["location": "m0.example.test"]]]],
        ], transport)
        XCTAssertEqual(registries.written?.hasPrefix(shipped), true)

        // storage.conf: seeded from the vendor file. Until then the vendor's graphroot is the
        // system's store, which may hold anything: allow_reset.
        func storage(_ graphroot: String, driver: String = "vfs", allowReset: Bool) -> KeyValuePairs<String, Value> {
            ["path": .string(at("conf/storage.conf")), "driver": .string(driver), "graphroot": .string(at(graphroot)),
             "runroot": .string(at("run")), "allow_reset": .bool(allowReset)]
        }
        let seeded = try apply(StorageConfModule.self, storage("graph-a", allowReset: true), transport)
        if let vendor = try? String(contentsOfFile: StorageConfModule.vendorPath, encoding: .utf8) {
            assertOnlyKeysDiffer(vendor, seeded.written ?? "", keys: ["driver", "graphroot", "runroot"])
        }

        // An image in store A: moving graphroot to B is refused, then allowed with allow_reset.
        let tar = at("empty.tar")
        try Data(count: 10240).write(to: URL(fileURLWithPath: tar))
        _ = try PodmanTestSupport.run(podman, ["import", tar, "localhost/provision-test"], environment: [:])
        let refused = try plan(StorageConfModule.self, storage("graph-b", allowReset: false), transport)
        XCTAssertEqual(refused.failure?.hasPrefix("moving graphroot from \(at("graph-a")) to \(at("graph-b")) would hide "
            + "the 0 containers and 1 image in \(at("graph-a")) from podman."), true, refused.failure ?? "")
        let reset = try apply(StorageConfModule.self, storage("graph-b", allowReset: true), transport)
        XCTAssertEqual(reset.summaries, ["update \(at("conf/storage.conf")): storage.graphroot "
            + "(allow_reset: the 0 containers and 1 image stay in \(at("graph-a")))"])

        let output = try PodmanTestSupport.run(podman, ["info", "--format", "json"], environment: [:])
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: Any])
        let store = try XCTUnwrap(info["store"] as? [String: Any])
        XCTAssertEqual(store["graphRoot"] as? String, at("graph-b"))
        XCTAssertEqual(store["runRoot"] as? String, at("run"))
        XCTAssertEqual(store["graphDriverName"] as? String, "vfs")
        XCTAssertEqual((store["imageStore"] as? [String: Any])?["number"] as? Int, 0)
        let host = try XCTUnwrap(info["host"] as? [String: Any])
        let ociRuntime = try XCTUnwrap(host["ociRuntime"] as? [String: Any])
        XCTAssertEqual(ociRuntime["name"] as? String, "provision-runtime")
        XCTAssertEqual(ociRuntime["path"] as? String, runtime)
        XCTAssertEqual(host["cgroupManager"] as? String, "cgroupfs")
        let registryInfo = try XCTUnwrap(info["registries"] as? [String: Any])
        XCTAssertEqual(registryInfo["search"] as? [String], ["registry.example.test"])
        let registry = try XCTUnwrap(registryInfo["registry.example.test"] as? [String: Any])
        XCTAssertEqual(registry["Location"] as? String, "mirror.example.test:5000")
        XCTAssertEqual(registry["Insecure"] as? Bool, true)
        XCTAssertEqual((registry["Mirrors"] as? [[String: Any]])?.first?["Location"] as? String, "m0.example.test")
        // podman info made its database in graph-b, recording vfs: changing the driver of the empty store is refused.
        let database = try plan(StorageConfModule.self, storage("graph-b", driver: "overlay", allowReset: false), transport)
        XCTAssertEqual(database.failure?.hasPrefix("changing the driver from vfs to overlay would not take effect: podman keeps "
            + "using the driver recorded in its database \(at("graph-b"))/"), true, database.failure ?? "")

        let subnet = try PodmanTestSupport.run(podman, ["network", "inspect", "podman", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}"],
                                               environment: [:])
        XCTAssertEqual(String(decoding: subnet, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), "10.90.0.0/16")
    }

    // MARK: Helpers

    private func setEnvironment(_ values: [String: String]) {
        for (name, value) in values {
            if savedEnvironment[name] == nil { savedEnvironment[name] = ProcessInfo.processInfo.environment[name] }
            setenv(name, value, 1)
        }
    }

    private func plan<M: Module>(_ type: M.Type, _ arguments: KeyValuePairs<String, Value>, _ transport: LocalTransport) throws -> Plan {
        let module = try ModuleFixture.make(type, arguments)
        return try module.plan(try transport.observe(module.observations(ModuleContext())), ModuleContext())
    }

    /// Plans, performs the plan's actions, and checks that planning again changes nothing.
    private func apply<M: Module>(_ type: M.Type, _ arguments: KeyValuePairs<String, Value>, _ transport: LocalTransport,
                                  line: UInt = #line) throws -> Plan {
        let first = try plan(type, arguments, transport)
        XCTAssertNil(first.failure, line: line)
        XCTAssertTrue(first.isChanged, line: line)
        for action in first.actions { _ = try transport.perform(action) }
        let again = try plan(type, arguments, transport)
        XCTAssertNil(again.failure, line: line)
        XCTAssertEqual(again.summaries, [], "applying \(M.name) again changed something", line: line)
        return first
    }

    /// Line by line, `edited` is `original` but for assignments of `keys`.
    private func assertOnlyKeysDiffer(_ original: String, _ edited: String, keys: Set<String>) {
        let before = original.split(separator: "\n", omittingEmptySubsequences: false)
        let after = edited.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(before.count, after.count)
        for (old, new) in zip(before, after) where old != new {
            let key = new.split(separator: "=").first?.trimmingCharacters(in: .whitespaces) ?? ""
            XCTAssertTrue(keys.contains(key), "unexpected change: \(old) -> \(new)")
        }
    }
}
