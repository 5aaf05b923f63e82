import Provisioner

/// Path arithmetic as Python's `os.path` does it on POSIX, so results (and
/// messages) name the same paths Ansible's would. Pure text: nothing is resolved.
enum PathText {
    /// `os.path.dirname`: "/etc/x" -> "/etc", "/x" -> "/", "x" -> "", "/a/b/" -> "/a/b".
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        var head = String(path[...slash])
        // Trailing slashes go, unless the head is nothing but slashes.
        if head.contains(where: { $0 != "/" }) {
            while head.hasSuffix("/") { head.removeLast() }
        }
        return head
    }

    /// `os.path.basename`: "/etc/x" -> "x", "/a/b/" -> "".
    static func base(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `os.path.join` of two parts: an absolute second part wins.
    static func join(_ head: String, _ tail: String) -> String {
        if tail.hasPrefix("/") || head.isEmpty { return tail }
        return head.hasSuffix("/") ? head + tail : head + "/" + tail
    }
}

extension FileMode {
    /// Ansible's way of writing a mode: `'0%03o'`, so 0o644 is "0644" and 0o4755 "04755".
    static func text(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return "0" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}

extension FileState.Kind {
    /// The word Ansible's file module uses for a path's state.
    var stateName: String {
        switch self {
        case .file: return "file"
        case .directory: return "directory"
        case .link: return "link"
        case .other: return "file"
        }
    }
}
