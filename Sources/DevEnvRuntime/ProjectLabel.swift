import DevEnvModel

/// Labels devenv puts on what it creates. The `com.docker.compose.*` ones mean what they mean
/// to Compose, so `docker compose ps` sees devenv's projects.
public enum ProjectLabel {
    public static let project = "com.docker.compose.project"
    public static let service = "com.docker.compose.service"
    public static let configHash = "com.docker.compose.config-hash"
    public static let containerNumber = "com.docker.compose.container-number"
    public static let oneoff = "com.docker.compose.oneoff"
    public static let workingDir = "com.docker.compose.project.working_dir"
    public static let configFiles = "com.docker.compose.project.config_files"
    public static let network = "com.docker.compose.network"
    public static let volume = "com.docker.compose.volume"
    public static let managed = "dev.devenv.managed"
    public static let imageID = "dev.devenv.image-id"
    /// On images devenv built: the digest of what went into the build.
    public static let buildDigest = "dev.devenv.build-digest"
}
