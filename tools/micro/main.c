// The C entry point of ember-micro: Embedded Swift has no CommandLine, so the arguments are
// recorded for _EmberSystem before the Swift entry point (renamed ember_swift_main) runs.
#include "ember_system.h"

int ember_swift_main(int argc, char **argv);

int main(int argc, char **argv) {
  ember_sys_set_arguments(argc, argv);
  return ember_swift_main(argc, argv);
}
