import Provisioner

/// Entries of the host's account databases as `getent` prints them.
enum AccountDatabase {
    struct User: Equatable {
        var name: String
        var uid: Int
        var gid: Int
        var comment: String
        var home: String
        var shell: String
    }

    struct Group: Equatable {
        var name: String
        var gid: Int
        var members: [String]
    }

    /// `name:x:uid:gid:gecos:home:shell`; nil when the lookup found nothing.
    static func user(_ output: CommandOutput?) -> User? {
        guard let output, output.status == 0, let line = output.stdout.split(separator: "\n").first else { return nil }
        let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 7, let uid = Int(f[2]), let gid = Int(f[3]) else { return nil }
        return User(name: f[0], uid: uid, gid: gid, comment: f[4], home: f[5], shell: f[6])
    }

    /// Every `name:x:gid:members` line (getent prints those it found, even when some keys are unknown).
    static func groups(_ output: CommandOutput?) -> [Group] {
        guard let output else { return [] }
        return output.stdout.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, let gid = Int(f[2]) else { return nil }
            return Group(name: f[0], gid: gid, members: f[3].split(separator: ",").map(String.init))
        }
    }

    /// A group given by name or by gid, as Ansible looks it up (gid first).
    static func find(_ key: String, in groups: [Group]) -> Group? {
        if let gid = Int(key), let group = groups.first(where: { $0.gid == gid }) { return group }
        return groups.first { $0.name == key }
    }
}
