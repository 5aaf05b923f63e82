import Foundation
@testable import Modules
@testable import Provisioner

/// Host answers for the podman modules' probes, written the way the host's scripts print them.
enum PodmanFixture {
    /// The quadlet listing of a scope: the unit folder's files (relative name -> (mtime, text)) and the
    /// services' states (LoadState, ActiveState, SubState, ActiveEnterTimestamp; `generated`: when the
    /// generator last wrote the service).
    static func listing(directory: String = "/etc/containers/systemd", exists: Bool = true,
                        files: [String: (Int, String)] = [:], services: [String: [String: String]] = [:]) -> CommandOutput {
        var out = "dir \(exists ? 1 : 0) \(directory)\n"
        let names = files.keys.sorted()
        for name in names { out += "f \(files[name]!.0) \(files[name]!.1.utf8.count) \(name)\n" }
        // The services' runtime files, in the same stat: absolute paths.
        for (service, properties) in services.sorted(by: { $0.key < $1.key }) {
            if let started = properties["ActiveEnterTimestamp"], started.hasPrefix("@") {
                out += "f \(started.dropFirst()) 32 /run/systemd/units/invocation:\(service)\n"
            }
            if let generated = properties["generated"] { out += "f \(generated) 600 /run/systemd/generator/\(service)\n" }
        }
        if !names.isEmpty {
            out += "blob " + Data(names.map { files[$0]!.1 }.joined().utf8).base64EncodedString() + "\n"
        }
        out += "units\n"
        for (service, properties) in services.sorted(by: { $0.key < $1.key }) where properties["LoadState"] != "not-found" {
            out += "\(service) \(properties["LoadState"] ?? "loaded") \(properties["ActiveState"] ?? "inactive") \(properties["SubState"] ?? "dead") desc\n"
        }
        out += "services " + services.keys.sorted().joined(separator: " ") + "\n"
        return CommandOutput(status: 0, stdout: out)
    }

    /// A running service, started at `since`.
    static func running(since: Int = 2_000) -> [String: String] {
        ["LoadState": "loaded", "ActiveState": "active", "SubState": "running", "ActiveEnterTimestamp": "@\(since)", "generated": "1500"]
    }

    static let stopped = ["LoadState": "loaded", "ActiveState": "inactive", "SubState": "dead", "generated": "1500"]

    static func check(_ line: String) -> CommandOutput { CommandOutput(status: 0, stdout: line + "\n") }

    static func generatorFailure(version: String, _ stderr: String) -> CommandOutput {
        check("fail \(version) " + Data(stderr.utf8).base64EncodedString())
    }

    /// `podman images --format json` of these (id, names, digests).
    static func images(_ images: [(String, [String], [String])]) -> CommandOutput {
        let objects: [[String: Any]] = images.map { ["Id": $0.0, "Names": $0.1, "RepoDigests": $0.2] }
        return CommandOutput(status: 0, stdout: String(decoding: try! JSONSerialization.data(withJSONObject: objects), as: UTF8.self))
    }

    /// `podman ps --all --format json` of these (name, labels, state, image id).
    static func containers(_ containers: [(String, [String: String], String, String)]) -> CommandOutput {
        let objects: [[String: Any]] = containers.map { ["Names": [$0.0], "Labels": $0.1, "State": $0.2, "ImageID": $0.3] }
        return CommandOutput(status: 0, stdout: String(decoding: try! JSONSerialization.data(withJSONObject: objects), as: UTF8.self))
    }
}
