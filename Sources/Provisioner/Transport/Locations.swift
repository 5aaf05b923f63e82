import Foundation

/// Where observed paths really are (`PathLocation`), as both transports report them: the
/// cache compares these, not the names tasks used, to know what a change can affect.
enum Locations {
    struct Request {
        var path: String
        var normalized: String
        /// A `.target` observation: where the path leads matters too.
        var follow: Bool
    }

    /// One request per path, in order; a path observed both ways is located once, followed.
    static func requests(paths: [String], targets: [String]) -> [Request] {
        var index: [String: Int] = [:]
        var result: [Request] = []
        for (path, follow) in paths.map({ ($0, false) }) + targets.map({ ($0, true) }) {
            if let at = index[path] {
                result[at].follow = result[at].follow || follow
            } else {
                index[path] = result.count
                result.append(Request(path: path, normalized: PathNames.normalized(path), follow: follow))
            }
        }
        return result
    }

    /// The folders the paths are in, each once.
    static func folders(of requests: [Request]) -> [String] {
        var seen = Set<String>()
        return requests.map { PathNames.folder(of: $0.normalized) }.filter { seen.insert($0).inserted }
    }

    /// NUL-terminated fields.
    static func split(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    /// `pv_locate`'s answer: an entry and a resolved path per request ("" when unknown).
    static func parse(_ bytes: [UInt8], for requests: [Request]) -> [String: PathLocation] {
        let fields = split(bytes)
        var result: [String: PathLocation] = [:]
        for (index, request) in requests.enumerated() where 2 * index + 1 < fields.count {
            let entry = fields[2 * index], resolved = fields[2 * index + 1]
            guard !entry.isEmpty else { continue }
            result[request.path] = PathLocation(entry: entry, resolved: request.follow && !resolved.isEmpty ? resolved : nil)
        }
        return result
    }

    /// The same on this machine: the folder through realpath(3), a missing tail kept as written.
    static func local(_ request: Request) -> PathLocation? {
        let path = request.normalized
        guard let folder = physicalFolder(PathNames.folder(of: path)) else { return nil }
        let entry = path == "/" ? "/" : PathNames.join(folder, PathNames.name(of: path))
        guard request.follow else { return PathLocation(entry: entry) }
        var st = stat()
        if lstat(entry, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
            return PathLocation(entry: entry, resolved: realPath(entry))
        }
        return PathLocation(entry: entry, resolved: entry)
    }

    private static func physicalFolder(_ folder: String) -> String? {
        var existing = folder
        var tail: [String] = []
        while true {
            if let real = realPath(existing) {
                guard !tail.contains(".") && !tail.contains("..") else { return nil }
                return tail.reversed().reduce(real) { PathNames.join($0, $1) }
            }
            if existing == "/" || existing == "." { return nil }
            tail.append(PathNames.name(of: existing))
            existing = PathNames.folder(of: existing)
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
