/// `environment:` of the play, its blocks and the task (inner names win): every command the task's
/// module runs gets it, over ssh too (the transport quotes it; modules never build shell strings).
/// A module's own variables (`LANG=C` for a package manager) win over it, as in Ansible.
enum TaskEnvironment {
    /// The variables, rendered with the task's templar; values as Python's `str()` prints them.
    static func resolve(_ layers: [Value], _ templar: Templar) throws -> [String: String] {
        var result: [String: String] = [:]
        for layer in layers {
            let rendered = try templar.render(layer)
            for mapping in rendered.list ?? [rendered] {
                if mapping == .null { continue }
                guard case .dict(let variables) = mapping else {
                    throw ModuleError("environment must be a mapping of variable names to values, not \(mapping.typeName) \(mapping.pythonText)")
                }
                for (name, value) in variables {
                    guard RemoteShell.isVariableName(name) else {
                        throw ModuleError("environment: '\(name)' is not a variable name (letters, digits and '_', not starting with a digit)")
                    }
                    result[name] = value.pythonText
                }
            }
        }
        return result
    }
}

extension Plan {
    /// The plan with `environment` under every command it runs.
    func adding(environment: [String: String]) -> Plan {
        guard !environment.isEmpty else { return self }
        var plan = self
        plan.changes = changes.map { change in
            var change = change
            change.actions = change.actions.map { action in
                guard case .run(var command) = action else { return action }
                command.environment = environment.merging(command.environment) { _, own in own }
                return .run(command)
            }
            return change
        }
        return plan
    }
}
