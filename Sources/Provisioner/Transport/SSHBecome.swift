/// Who commands run as on a host, through `sudo -n` (the only method provision
/// supports: it never types passwords).
public struct Become: Hashable, Sendable, CustomStringConvertible {
    public var user: String
    public var method: String

    public init(user: String = "root", method: String = "sudo") {
        self.user = user
        self.method = method
    }

    public var description: String { "\(user) via \(method)" }

    /// The become in force for a host, with Ansible's precedence: the host's
    /// `ansible_become*` variables over the play's or task's keyword (`keyword`,
    /// nil when it says nothing) over ansible.cfg's `[privilege_escalation]`.
    /// Nil means no become. Throws for a method other than sudo.
    public static func resolve(keyword: Become?, variables: ValueDict, config: AnsibleConfig = AnsibleConfig(),
                               host: String) throws -> Become? {
        let vars = SSHVariables(host: host, variables: variables)
        let wanted = try vars.bool("ansible_become") ?? (keyword != nil ? true : config.become ?? false)
        guard wanted else { return nil }
        let user = try vars.string("ansible_become_user") ?? keyword?.user ?? config.becomeUser ?? "root"
        let method = try vars.string("ansible_become_method") ?? keyword?.method ?? config.becomeMethod ?? "sudo"
        let become = Become(user: user, method: method)
        try become.validate(host: host)
        return become
    }

    func validate(host: String) throws {
        guard method == "sudo" else {
            throw TransportError("\(host): become method '\(method)' is not supported; provision becomes other users"
                + " only with sudo (sudo -n, so allow NOPASSWD)", unreachable: true)
        }
        guard !user.isEmpty, !user.utf8.contains(0) else {
            throw TransportError("\(host): '\(user)' is not a user name (become_user)", unreachable: true)
        }
    }
}
