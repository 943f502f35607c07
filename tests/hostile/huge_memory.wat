;; 65536 pages: 4 GiB of initial memory.
(module (memory 65536))
