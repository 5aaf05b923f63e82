import Foundation

/// A bundle's `MANIFEST`: every file's path, size, mode and sha256, and one aggregate checksum over
/// those lines, so one line names the whole bundle (for a chain-of-custody record).
///
///     provision-bundle-manifest 1
///     <sha256>  <size>  <mode>  <path>
///     ...
///     aggregate <sha256 of the entry lines>
public struct BundleManifest: Equatable {
    public struct Entry: Equatable {
        public var path: String
        public var size: Int
        public var sha256: String
        public var mode: Int

        public init(path: String, size: Int, sha256: String, mode: Int) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.mode = mode
        }

        var line: String { "\(sha256)  \(size)  \(String(mode, radix: 8))  \(path)" }
    }

    public static let fileName = "MANIFEST"
    static let header = "provision-bundle-manifest 1"

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries.sorted { $0.path < $1.path } }

    public var aggregate: String { SHA256.hex(Array(entries.map { $0.line + "\n" }.joined().utf8)) }

    public var totalSize: Int { entries.reduce(0) { $0 + $1.size } }

    public var text: String {
        ([BundleManifest.header] + entries.map(\.line) + ["aggregate \(aggregate)"]).joined(separator: "\n") + "\n"
    }

    /// A relative path inside the bundle: no `..`, no absolute path, no newline (the MANIFEST is line-based).
    static func checkPath(_ path: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.isEmpty || path.hasPrefix("/") || path.contains("\n") || parts.contains("..") || parts.contains("") || parts.contains(".") {
            throw BundleError("'\(path)' is not a path inside a bundle")
        }
    }

    public static func parse(_ text: String, file: String = "MANIFEST") throws -> BundleManifest {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == header else { throw BundleError("\(file):1: not a provision bundle MANIFEST (expected '\(header)')") }
        guard let last = lines.last, last.hasPrefix("aggregate "), lines.count >= 2 else {
            throw BundleError("\(file): the aggregate line is missing: the MANIFEST is cut short")
        }
        var entries: [Entry] = []
        var seen = Set<String>()
        for (index, line) in lines.enumerated().dropFirst().dropLast() {
            let fields = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false)
            // sha, "", size, "", mode, "", path
            guard fields.count == 7, fields[1].isEmpty, fields[3].isEmpty, fields[5].isEmpty,
                  fields[0].count == 64, fields[0].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
                  let size = Int(fields[2]), size >= 0, let mode = Int(fields[4], radix: 8) else {
                throw BundleError("\(file):\(index + 1): malformed entry '\(line)'")
            }
            let path = String(fields[6])
            do { try checkPath(path) } catch let error as BundleError { throw BundleError("\(file):\(index + 1): \(error.message)") }
            guard seen.insert(path).inserted else { throw BundleError("\(file):\(index + 1): '\(path)' is listed twice") }
            entries.append(Entry(path: path, size: size, sha256: String(fields[0]), mode: mode))
        }
        let manifest = BundleManifest(entries: entries)
        let recorded = String(last.dropFirst("aggregate ".count))
        guard recorded == manifest.aggregate else {
            throw BundleError("\(file): aggregate checksum mismatch (recorded \(recorded), computed \(manifest.aggregate)): the MANIFEST was altered")
        }
        return manifest
    }

    public static func load(bundle directory: String) throws -> BundleManifest {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw BundleError("\(directory): no MANIFEST: not a provision bundle (or not joined yet: 'provision bundle join')")
        }
        return try parse(text, file: path)
    }

    /// Checks every file against the MANIFEST: sizes first (cheap, all at once), then each sha256;
    /// files not listed are refused too, so nothing unvouched is used. Returns the manifest.
    @discardableResult
    public static func verify(bundle directory: String, progress: (String) -> Void = { _ in }) throws -> BundleManifest {
        let manifest = try load(bundle: directory)
        var problems: [String] = []
        for entry in manifest.entries {
            let path = directory + "/" + entry.path
            guard let size = BundleIO.fileSize(path) else { problems.append("\(entry.path): missing"); continue }
            if size != entry.size { problems.append("\(entry.path): \(size) bytes, the MANIFEST says \(entry.size)") }
        }
        let listed = Set(manifest.entries.map(\.path) + [fileName])
        for extra in listedFiles(in: directory).filter({ !listed.contains($0) }) {
            problems.append("\(extra): not in the MANIFEST")
        }
        if problems.isEmpty {
            for entry in manifest.entries {
                if entry.size >= 1 << 26 { progress("verifying \(entry.path) (\(entry.size >> 20) MiB)") }
                let found = try BundleIO.sha256(directory + "/" + entry.path)
                if found.sha256 != entry.sha256 {
                    problems.append("\(entry.path): sha256 mismatch (MANIFEST \(entry.sha256), file \(found.sha256))")
                }
            }
        }
        guard problems.isEmpty else {
            throw BundleError("bundle \(directory) failed verification; nothing was used:\n  " + problems.joined(separator: "\n  "))
        }
        return manifest
    }

    /// Every regular file under `directory`, relative, sorted.
    static func listedFiles(in directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }
}
