// SPDX-License-Identifier: BSL-1.0
// velt/batch.hpp: many users on one client (CMake target velt::batch).
//   velt::batch_exporter  exports users, paced as a run, resumable through its sinks
//   velt::batch_eraser    queues deletions in batches, waits for them, verifies erasure
#pragma once

#include <velt/batch_erase.hpp>
#include <velt/batch_export.hpp>
