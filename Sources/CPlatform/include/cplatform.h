#ifndef DEVENV_CPLATFORM_H
#define DEVENV_CPLATFORM_H
#include <spawn.h>

/// Adds "close every descriptor from `lowest` up" to spawn file actions: glibc's
/// posix_spawn_file_actions_addclosefrom_np (2.34+), hidden from Swift behind _GNU_SOURCE.
/// Returns -1 where there is no such call (Darwin uses POSIX_SPAWN_CLOEXEC_DEFAULT instead).
int devenv_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);
#endif
