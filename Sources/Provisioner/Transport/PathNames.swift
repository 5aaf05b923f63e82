/// Lexical path arithmetic (no file system), shared by the transports, which report where
/// observed paths are, and the observation cache, which compares them.
enum PathNames {
    /// `//a//b/` -> `/a/b`: repeated and trailing slashes dropped (`/` stays `/`).
    static func normalized(_ path: String) -> String {
        guard path.contains("//") || (path.count > 1 && path.hasSuffix("/")) else { return path }
        let absolute = path.hasPrefix("/")
        let joined = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// The folder part of a normalized path (`/a/b` -> `/a`, `/a` -> `/`, `b` -> `.`).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a normalized path.
    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `/a/b` under `/a` (or equal to it); both normalized and absolute.
    static func isWithin(_ path: String, _ folder: String) -> Bool {
        if folder == "/" { return path.hasPrefix("/") }
        return path == folder || (path.hasPrefix(folder) && path.utf8.dropFirst(folder.utf8.count).first == UInt8(ascii: "/"))
    }

    /// Every folder above an absolute path, nearest first (`/a/b/c` -> `/a/b`, `/a`, `/`).
    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = path
        while current != "/" && current.hasPrefix("/") {
            current = folder(of: current)
            result.append(current)
        }
        return result
    }

    /// `folder` + `/` + `name`, without a double slash at the root.
    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
