/// How the engine reaches any host by name: the runner's inventory and connections.
protocol HostDirectory: AnyObject {
    /// The connection variables of `host` in `play`, with `keywords` (connection, remote_user,
    /// port) as defaults under the host's own `ansible_*` variables.
    func connectionVariables(of host: String, in play: Play, keywords: ConnectionKeywords) throws -> ValueDict
    /// A connection to `host` for `owner`'s tasks alone (never shared with another host's run).
    func connection(to host: String, for owner: String, variables: ValueDict) throws -> HostConnection
    /// `meta: refresh_inventory`: later batches and plays read the inventory again.
    func refreshInventory() throws
}

/// The play's or a task's `connection`, `remote_user` and `port`.
struct ConnectionKeywords: Hashable {
    var connection: String?
    var remoteUser: String?
    var port: Int?

    var isEmpty: Bool { connection == nil && remoteUser == nil && port == nil }

    /// The keywords as defaults under variables that name their own (`ansible_user` wins over `remote_user`).
    func defaults(under variables: ValueDict) -> ValueDict {
        var vars = variables
        if vars["ansible_connection"] == nil, let connection {
            vars["ansible_connection"] = .string(connection.replacingOccurrences(of: "ansible.builtin.", with: ""))
        }
        if vars["ansible_user"] == nil && vars["ansible_ssh_user"] == nil, let remoteUser { vars["ansible_user"] = .string(remoteUser) }
        if vars["ansible_port"] == nil && vars["ansible_ssh_port"] == nil, let port { vars["ansible_port"] = .int(port) }
        return vars
    }
}

/// Where a task's module runs when not through the host's own connection: `delegate_to` (or
/// `local_action`) another host, or the task's own connection keywords for this host. The task keeps
/// this host's variables and facts; the connection settings are the target's.
struct TaskTarget {
    var host: String
    var transport: Transport
}

extension HostRun {
    /// The host `delegate_to` names; nil when the task runs on this host.
    func delegate(of task: Task, _ templar: Templar) throws -> String? {
        guard let value = task.common.delegateTo, value != .null else { return nil }
        let name = try templar.render(value).pythonText.trimmingSpaces
        guard !name.isEmpty else { throw ModuleError("delegate_to gives an empty host name") }
        return name == host ? nil : name
    }

    /// The task's connection keywords over the play's.
    func connectionKeywords(_ common: TaskCommon) -> ConnectionKeywords {
        ConnectionKeywords(connection: common.connection ?? play.connection, remoteUser: common.remoteUser ?? play.remoteUser,
                           port: common.port ?? play.port)
    }

    /// Whether the task's module runs elsewhere than through the play's connection to this host.
    func runsElsewhere(_ task: Task, _ templar: Templar) throws -> Bool {
        let own = ConnectionKeywords(connection: task.common.connection, remoteUser: task.common.remoteUser, port: task.common.port)
        return try delegate(of: task, templar) != nil || !own.isEmpty
    }

    /// The target of a task that runs elsewhere (its own connection, opened once per run); nil otherwise.
    func target(of task: Task, _ templar: Templar) throws -> TaskTarget? {
        guard try runsElsewhere(task, templar) else { return nil }
        guard let directory = engine.hosts else { throw ModuleError("delegate_to needs the playbook runner") }
        let name = try delegate(of: task, templar) ?? host
        let variables = try directory.connectionVariables(of: name, in: play, keywords: connectionKeywords(task.common))
        let connection = try directory.connection(to: name, for: host, variables: variables)
        let become = try self.become(task.common, variables: variables)
        return TaskTarget(host: name, transport: try connection.transport(becoming: become))
    }
}
