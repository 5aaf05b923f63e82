import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// playbooks/ollama.yml without a test host: the server unit its role plans from the host's facts (with and
/// without an NVIDIA GPU: no GPU machine is lent to these tests, so the GPU path is checked as a plan), and
/// ports out of range refused with the task's file:line before anything on a host changes, wherever the
/// port is written.
final class OllamaPlaybookTests: XCTestCase {
    static let role = TestSupport.packageRoot.appendingPathComponent("playbooks/roles/ollama")

    func yaml(_ relative: String) throws -> Value {
        let stream = try YAMLStream(try String(contentsOf: OllamaPlaybookTests.role.appendingPathComponent(relative), encoding: .utf8), file: relative)
        return try XCTUnwrap(stream.documents.first.map(Value.init))
    }

    /// The server unit the role's quadlet task writes for `instance` on a host whose facts script printed `facts`.
    func serverUnit(facts: String, instance: String) throws -> String {
        guard case .list(let tasks) = try yaml("tasks/m4_deploy.yml"), case .dict(let defaults) = try yaml("defaults/main.yml") else {
            throw ModuleError("the role's files are not what this test reads")
        }
        let task = try XCTUnwrap(tasks.compactMap(\.dict).first { task in
            task["quadlet"]?.dict.map { $0["type"] == nil && $0["state"] == nil } ?? false
        })
        var variables = defaults.merging(Facts.variables(Facts.parse(facts)))
        variables = variables.merging(task["vars"]?.dict ?? ValueDict())
        variables["item"] = try Templar(variables: variables).evaluate(instance)
        let arguments = try Templar(variables: variables).render(try XCTUnwrap(task["quadlet"]))
        let module = try QuadletModule(ModuleArguments.validate(try XCTUnwrap(arguments.dict), against: QuadletModule.arguments, module: "quadlet"))
        return try XCTUnwrap(module.unit?.text)
    }

    static let base = "id=debian\nversion_id=13\narch=x86_64\npid1=systemd\nuid=0\n"

    func testTheServerGetsTheGPUThroughCDIOnlyWhenTheHostHasOne() throws {
        let withGPU = OllamaPlaybookTests.base + "nvidia=1\nnvidia_driver=580.95.05\n"
        let auto = "{'name': 'granite4', 'port': 55077, 'gpu': 'auto'}"
        let gpuUnit = try serverUnit(facts: withGPU, instance: auto)
        XCTAssertTrue(gpuUnit.contains("AddDevice=nvidia.com/gpu=all\n") && gpuUnit.contains("SecurityLabelDisable=true\n"), gpuUnit)
        let plain = try serverUnit(facts: OllamaPlaybookTests.base, instance: auto)
        XCTAssertFalse(plain.contains("AddDevice") || plain.contains("SecurityLabelDisable"), plain)
        // gpu: false keeps a GPU host's server off it; the rest of the unit is the same either way.
        let off = try serverUnit(facts: withGPU, instance: "{'name': 'granite4', 'port': 55077, 'gpu': false}")
        XCTAssertEqual(off, plain)
        XCTAssertEqual(gpuUnit.split(separator: "\n").filter { !$0.hasPrefix("AddDevice") && !$0.hasPrefix("SecurityLabelDisable") }, plain.split(separator: "\n"))
        for line in ["PublishPort=127.0.0.1:55077:11434", "Volume=ollama-granite4.volume:/root/.ollama:U", "UserNS=auto", "Network=ollama.network",
                     "Environment=OLLAMA_HOST=0.0.0.0:11434", "HealthCmd=ollama list", "Notify=healthy", "Image=docker.io/ollama/ollama:0.12.6"] {
            XCTAssertTrue(plain.contains(line + "\n"), "\(line) in\n\(plain)")
        }
    }

    /// A port out of range, wherever it is written (the inventory, group_vars, -e), stops the run before any
    /// task, naming the role's task file:line; the host (here this machine, connected locally) is untouched.
    func testPortsOutOfRangeAreRefusedBeforeAnythingChanges() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let playbook = TestSupport.packageRoot.appendingPathComponent("playbooks/ollama.yml").path
        let instances = { (port: Int) in "[{name: granite4, port: 55077, models: [granite4]}, {name: qwen-coder, port: \(port), models: [qwen2.5-coder:7b]}]" }
        for port in [66044, 0, 70000] {
            let inHost = try scratch.write("host/hosts.yml", """
            all: {children: {ollama_servers: {hosts: {localhost: {ansible_connection: local, ollama_instances: \(instances(port))}}}}}
            """)
            try scratch.write("group/hosts.yml", "all: {children: {ollama_servers: {hosts: {localhost: {ansible_connection: local}}}}}\n")
            try scratch.write("group/group_vars/ollama_servers.yml", "ollama_instances: \(instances(port))\n")
            let plain = try scratch.write("plain/hosts.yml", "all: {children: {ollama_servers: {hosts: {localhost: {ansible_connection: local}}}}}\n")
            let extra = "{\"ollama_instances\": [{\"name\": \"qwen-coder\", \"port\": \(port), \"models\": []}]}"
            for arguments in [["-i", inHost], ["-i", scratch.path("group/hosts.yml")], ["-i", plain, "-e", extra], ["-i", plain, "--check", "-e", extra]] {
                let result = try scratch.provision(["apply", playbook] + arguments)
                XCTAssertEqual(result.status, 1, "\(arguments): \(result.stdout)\(result.stderr)")
                XCTAssertTrue(result.stderr.contains("roles/ollama/tasks/m4_deploy.yml:") && result.stderr.contains("port \(port) is out of range (1-65535)"),
                              "\(arguments): \(result.stderr)")
                XCTAssertFalse(result.stdout.contains("TASK ["), "no task ran: \(result.stdout)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/var/lib/ollama/.config"), "this machine was not touched")
    }
}
