import Foundation
import XCTest

/// A scratch folder for a test's files (playbooks, inventories), and the real `provision` run in it.
struct Scratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("provision-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    var path: String { root.path }

    /// The full path of `relative` in the folder.
    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func read(_ relative: String) -> String? {
        (try? Data(contentsOf: root.appendingPathComponent(relative))).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Runs `provision ARGS` in this folder.
    func provision(_ arguments: [String], environment: [String: String]? = nil) throws -> TestSupport.Result {
        try TestSupport.run(try TestSupport.provisionBinary().path, arguments, environment: environment, in: root)
    }

    /// Every path under `relative` with its type, mode, owner, size, mtime (ns) and content:
    /// two equal snapshots mean nothing was touched.
    func snapshot(_ relative: String = ".") throws -> [String: String] {
        var result: [String: String] = [:]
        let base = root.appendingPathComponent(relative).path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return result }
        var paths = [""]
        while let next = walker.nextObject() as? String { paths.append(next) }
        for relativePath in paths {
            let full = relativePath.isEmpty ? base : base + "/" + relativePath
            var st = stat()
            guard lstat(full, &st) == 0 else { continue }
            var entry = "mode=\(String(st.st_mode, radix: 8)) uid=\(st.st_uid) size=\(st.st_size) mtime=\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
            if st.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: full) {
                entry += " content=" + data.base64EncodedString()
            }
            result[relativePath] = entry
        }
        return result
    }
}

extension TestSupport.Result {
    /// The `--json` document.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
    }

    /// Summed recap counter (`changed`, `failed`, ...) over hosts, from `--json` output.
    func recap(_ counter: String) -> Int {
        let recap = json["recap"] as? [String: [String: Any]] ?? [:]
        return recap.values.reduce(0) { $0 + ($1[counter] as? Int ?? 0) }
    }

    var tasks: [[String: Any]] {
        (json["plays"] as? [[String: Any]] ?? []).flatMap { $0["tasks"] as? [[String: Any]] ?? [] }
    }
}
