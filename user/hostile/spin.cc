// Never yields: the timer slice must still let other apps on its hart run.
#include "user/hostile/hostile.h"

int main(int, char**) {
    ringlet::user::print("hostile_spin: spinning forever\n");
    for (;;) asm volatile("" ::: "memory");
}
