import Foundation

/// The play-level variable layers a host run adds to the inventory's: `vars_files` (a list entry
/// reads its first file found) and roles' defaults and vars, a role's own winning inside its tasks.
extension HostRun {
    /// `vars_files` over `scope`: each entry's candidates are rendered and searched in the play's
    /// `vars/` folder, then beside the playbook; the first found is read. A list none of whose files
    /// exist is skipped with a warning (Ansible skips it silently); a single missing file stays an
    /// error here, where Ansible 2.19 ignores it too.
    func readVarsFiles(_ scope: ValueDict) throws -> ValueDict {
        var scope = scope
        for entry in play.varsFiles {
            let templar = makeTemplar(scope.merging(engine.options.extraVars))
            var found: String?
            var tried: [String] = []
            for candidate in entry {
                let name = try templar.renderString(candidate)
                let paths = name.hasPrefix("/") ? [name] : ["\(play.directory)/vars/\(name)", "\(play.directory)/\(name)"]
                tried += paths
                if let path = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                    found = path
                    break
                }
            }
            guard let path = found else {
                if entry.count > 1 {
                    reporter.warning("\(play.location): none of the vars_files \(entry.joined(separator: ", ")) exists: skipped")
                    continue
                }
                throw ParseError("vars file \(entry[0]) not found (looked for \(tried.joined(separator: ", ")))", at: play.location)
            }
            let loaded = try engine.loadVarsFile(path, at: play.location)
            aboveDefaults.formUnion(loaded.keys)
            scope = scope.merging(loaded)
        }
        return scope
    }

    /// `base` as a role's task sees it: its own defaults over other roles' defaults (but under
    /// everything else), its own vars over every play-level variable.
    func layered(_ base: ValueDict, for role: RoleContext?) -> ValueDict {
        guard let role, !(role.defaults.isEmpty && role.vars.isEmpty) else { return base }
        var vars = base
        for (key, value) in role.defaults where !aboveDefaults.contains(key) { vars[key] = value }
        for (key, value) in role.vars { vars[key] = value }
        return vars
    }

    /// A public `include_role`: its defaults and vars stay for the rest of the play.
    func expose(_ role: RoleContext) {
        base = layered(base, for: role)
        aboveDefaults.formUnion(role.vars.keys)
    }
}
