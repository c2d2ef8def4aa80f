// DevEnvCore is the core as one import for the CLI and library users: the targets below,
// each with only the dependencies its arrows allow (README, "Architecture").
@_exported import DevEnvModel
@_exported import DevEnvOrchestration
@_exported import DevEnvProvisioning
@_exported import DevEnvRender
@_exported import DevEnvRuntime
@_exported import DevEnvSamples
