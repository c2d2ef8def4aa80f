#ifndef DEVENV_CLIBPQ_SHIM_H
#define DEVENV_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
