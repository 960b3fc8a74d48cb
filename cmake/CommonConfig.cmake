# One INTERFACE target carries the compile policy for every TicketLab target.
add_library(ticketlab_policy INTERFACE)
target_compile_features(ticketlab_policy INTERFACE cxx_std_17)
target_compile_options(ticketlab_policy INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wno-unused-parameter>)
target_compile_definitions(ticketlab_policy INTERFACE
  QT_NO_CAST_FROM_ASCII QT_NO_CONTEXTLESS_CONNECT
  # Qt's slots/signals/emit macros break LibTorch headers: use Q_SLOTS, Q_SIGNALS, Q_EMIT.
  QT_NO_KEYWORDS
  TICKETLAB_VERSION="${PROJECT_VERSION}")
set(CMAKE_CXX_EXTENSIONS OFF)
