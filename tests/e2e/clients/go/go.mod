module oisp.test/goclients

go 1.19
