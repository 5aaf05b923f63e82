import Provisioner

/// Ansible's `validate` (copy, template, lineinfile): the new content is first written
/// to a temporary file beside the destination, the command (with `%s` replaced by
/// that file) must succeed, and only then is the destination replaced. A failing
/// check stops the task before the destination is touched; the temporary file is
/// removed either way.
struct Validation: Sendable {
    static let spec = ArgumentSpec("validate", .string, doc: "command that must accept the new file (%s: its path) before it replaces dest")

    /// The command split into words, `%s` still in place.
    let words: [String]

    init?(_ arguments: ModuleArguments) throws {
        guard let command = arguments.string("validate") else { return nil }
        guard command.contains("%s") else { throw ModuleError("validate must contain %s: \(command)", argument: "validate") }
        // Ansible runs it without a shell, split as shlex splits it.
        words = try Shlex.split(command, argument: "validate")
    }

    /// Actions that check `content` before the write that follows them.
    func actions(for path: String, content: [UInt8], attributes: FileAttributes) -> [Action] {
        let temporary = PathText.join(PathText.directory(of: path), ".\(PathText.base(of: path)).provision-validate")
        let check = words.map { $0.replacingAll("%s", with: temporary) }
        // A constant script: run the check, remove the temporary file, keep the check's status.
        let argv = ["/bin/sh", "-c", "t=$1; shift; \"$@\"; s=$?; rm -f -- \"$t\"; exit $s", "validate", temporary] + check
        return [.writeFile(path: temporary, content: content, attributes: attributes, backup: false), .run(Command(argv))]
    }
}

extension String {
    /// Every occurrence of `target` replaced (plain text, no patterns).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
