import Provisioner

/// The SELinux arguments of Ansible's file common arguments (`seuser`, `serole`, `setype`,
/// `selevel`): applied with chcon where SELinux is on, ignored (as Ansible ignores them) where it
/// is off. The state and the path's current context are one read-only probe.
struct SELinuxContext: Sendable {
    static let specs: [ArgumentSpec] = [
        ArgumentSpec("seuser", .string, doc: "SELinux user of the path (where SELinux is on; ignored elsewhere)"),
        ArgumentSpec("serole", .string, doc: "SELinux role of the path (where SELinux is on; ignored elsewhere)"),
        ArgumentSpec("setype", .string, doc: "SELinux type of the path (where SELinux is on; ignored elsewhere)"),
        ArgumentSpec("selevel", .string, doc: "SELinux level/range of the path (where SELinux is on; ignored elsewhere)"),
    ]

    var user: String?
    var role: String?
    var type: String?
    var level: String?

    init(_ arguments: ModuleArguments) {
        user = arguments.string("seuser")
        role = arguments.string("serole")
        type = arguments.string("setype")
        level = arguments.string("selevel")
    }

    var isEmpty: Bool { user == nil && role == nil && type == nil && level == nil }

    /// `off`, or `on` and the path's context (`-` when the path does not exist yet).
    static func probe(_ path: String, follow: Bool) -> Observation {
        .command(["/bin/sh", "-c", """
            if command -v selinuxenabled > /dev/null 2>&1 && selinuxenabled; then
              echo on; stat $1 -c %C -- "$0" 2> /dev/null || echo -
            else echo off; fi
            """, path, follow ? "-L" : ""])
    }

    /// The chcon change that gives `path` the wanted parts, or nil (SELinux off, already so, or nothing asked).
    func change(_ path: String, follow: Bool, _ observed: Observations) -> Change? {
        guard !isEmpty, let output = observed.command(SELinuxContext.probe(path, follow: follow).argv) else { return nil }
        let lines = output.stdout.split(separator: "\n").map(String.init)
        guard lines.first == "on" else { return nil }
        // user:role:type:level, the level holding colons of its own (s0:c1,c2).
        let current = (lines.count > 1 ? lines[1] : "-").split(separator: ":", maxSplits: 3).map(String.init)
        let parts = [("-u", user), ("-r", role), ("-t", type), ("-l", level)]
        var flags: [String] = [], words: [String] = []
        for (index, (flag, wanted)) in parts.enumerated() {
            guard let wanted, current.count <= index || current[index] != wanted else { continue }
            flags += [flag, wanted]
            words.append(wanted)
        }
        guard !flags.isEmpty else { return nil }
        return Change("SELinux context of \(path): \(words.joined(separator: ", "))",
                      diff: TextDiff(label: "\(path) (SELinux context)", before: (lines.count > 1 ? lines[1] : "") + "\n",
                                     after: words.joined(separator: ":") + "\n"),
                      actions: [.run(Command(["chcon"] + (follow ? [] : ["-h"]) + flags + ["--", path]))])
    }
}
